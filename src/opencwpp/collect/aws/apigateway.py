"""API Gateway REST APIs (v1), their stages with method settings as rows, and custom domains.

A stage's `method_settings` (a map from `*/*` or `<resource path>/<METHOD>` to logging, caching
and throttling settings) is also split into rows of
`cwpp_aws_apigateway_rest_api_stage_method_settings`, so checks never walk it. Stage variables
(and canary overrides of them) often hold backend credentials: they are stored as fingerprints,
secret-looking ones reported in `cwpp_aws_secret_exposures`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opencwpp.collect.aws._apigateway import apigateway_arn, go_keys, redact_variables
from opencwpp.collect.aws._secrets import EXPOSURES, exposure_rows
from opencwpp.collect.aws._shape import columns, empty, extend, need_region, shape, with_ids
from opencwpp.collect.base import Resource, Row, Rows, SessionContext, paginate, register
from opencwpp.lake.schema import table

REST_APIS = table(
    "aws_apigateway_rest_apis",
    columns(
        """
        account_id region arn api_key_source binary_media_types:list created_date:ts description
        disable_execute_api_endpoint:bool endpoint_configuration:json id
        minimum_compression_size:int name policy root_resource_id tags:json version warnings:list
        """
    ),
    cq_id_from=["arn"],
)
STAGES = table(
    "aws_apigateway_rest_api_stages",
    columns(
        """
        account_id region rest_api_arn arn access_log_settings:json cache_cluster_enabled:bool
        cache_cluster_size cache_cluster_status canary_settings:json client_certificate_id
        created_date:ts deployment_id description documentation_version last_updated_date:ts
        method_settings:json stage_name tags:json tracing_enabled:bool variables:json web_acl_arn
        """
    ),
    cq_id_from=["account_id", "arn"],
    parent="aws_apigateway_rest_apis",
)
METHOD_SETTINGS = table(
    "cwpp_aws_apigateway_rest_api_stage_method_settings",
    columns(
        """
        account_id region rest_api_arn stage_arn stage_name method_path logging_level
        metrics_enabled:bool data_trace_enabled:bool caching_enabled:bool
        cache_data_encrypted:bool cache_ttl_in_seconds:int
        require_authorization_for_cache_control:bool
        """
    ),
    cq_id_from=["stage_arn", "method_path"],
    parent="aws_apigateway_rest_api_stages",
    indexes=[("stage_arn",)],
    description=(
        "One row per method setting of a REST API stage: method_path '*/*' is the stage-wide "
        "default, '<resource path>/<METHOD>' an override."
    ),
)
DOMAIN_NAMES = table(
    "aws_apigateway_domain_names",
    columns(
        """
        account_id region arn certificate_arn certificate_name certificate_upload_date:ts
        distribution_domain_name distribution_hosted_zone_id domain_name domain_name_status
        domain_name_status_message endpoint_configuration:json mutual_tls_authentication:json
        ownership_verification_certificate_arn regional_certificate_arn
        regional_certificate_name regional_domain_name regional_hosted_zone_id security_policy
        tags:json
        """
    ),
    cq_id_from=["arn"],
)
REST_API_TABLES = (REST_APIS, STAGES, METHOD_SETTINGS, EXPOSURES)
# API Gateway's one read action (its IAM actions are named after HTTP verbs).
READ = ("apigateway:GET",)


def method_setting_rows(stage: Row, settings: Mapping[str, Any] | None) -> list[Row]:
    """One row per entry of a stage's method settings (API field names, camelCase)."""
    rows = []
    for path, setting in sorted((settings or {}).items()):
        if not isinstance(setting, Mapping):
            continue
        row: Row = {
            "account_id": stage["account_id"],
            "region": stage["region"],
            "rest_api_arn": stage["rest_api_arn"],
            "stage_arn": stage["arn"],
            "stage_name": stage["stage_name"],
            "method_path": str(path),
            "logging_level": setting.get("loggingLevel"),
            "metrics_enabled": setting.get("metricsEnabled"),
            "data_trace_enabled": setting.get("dataTraceEnabled"),
            "caching_enabled": setting.get("cachingEnabled"),
            "cache_data_encrypted": setting.get("cacheDataEncrypted"),
            "cache_ttl_in_seconds": setting.get("cacheTtlInSeconds"),
            "require_authorization_for_cache_control": setting.get(
                "requireAuthorizationForCacheControl"
            ),
        }
        rows.append(with_ids(METHOD_SETTINGS, row, stage))
    return rows


def transform_rest_api(
    account_id: str, region: str, api: Mapping[str, Any], stages: Sequence[Mapping[str, Any]]
) -> Rows:
    """Rows of one REST API: itself, its stages, their method settings, secret exposures."""
    api_arn = apigateway_arn(region, f"/restapis/{api['id']}")
    base: dict[str, Any] = {"account_id": account_id, "region": region}
    parent = with_ids(REST_APIS, shape(REST_APIS, go_keys(api), arn=api_arn, **base))
    out = empty(REST_API_TABLES)
    out[REST_APIS].append(parent)
    for stage in stages:
        stage_arn = f"{api_arn}/stages/{stage['stageName']}"
        variables, found = redact_variables(stage.get("variables"), "apigateway.stage.variables")
        canary = dict(stage.get("canarySettings") or {}) or None
        if canary is not None and "stageVariableOverrides" in canary:
            overrides, more = redact_variables(
                canary["stageVariableOverrides"], "apigateway.stage.canary_overrides"
            )
            canary["stageVariableOverrides"] = overrides
            found += more
        row = shape(
            STAGES,
            go_keys({**stage, "variables": None, "canarySettings": None}),
            rest_api_arn=api_arn,
            arn=stage_arn,
            variables=variables,
            canary_settings=go_keys(canary),
            **base,
        )
        child = with_ids(STAGES, row, parent)
        out[STAGES].append(child)
        out[METHOD_SETTINGS] += method_setting_rows(child, stage.get("methodSettings"))
        out[EXPOSURES] += exposure_rows(
            found, source_table=STAGES.name, resource_arn=stage_arn, **base
        )
    return out


def fetch_rest_apis(ctx: SessionContext, region: str | None) -> Rows:
    """Every REST API of one region with its stages."""
    region = need_region("apigateway.rest_apis", region)
    client = ctx.client("apigateway", region)
    out = empty(REST_API_TABLES)
    for api in paginate(client, "get_rest_apis", "items"):
        stages = client.get_stages(restApiId=api["id"]).get("item", [])
        extend(out, transform_rest_api(ctx.account_id, region, api, stages))
    return out


def transform_domain_name(account_id: str, region: str, domain: Mapping[str, Any]) -> Row:
    """The row of one custom domain name (its TLS security policy included)."""
    domain_arn = apigateway_arn(region, f"/domainnames/{domain['domainName']}")
    row = shape(DOMAIN_NAMES, go_keys(domain), account_id=account_id, region=region, arn=domain_arn)
    return with_ids(DOMAIN_NAMES, row)


def fetch_domain_names(ctx: SessionContext, region: str | None) -> Rows:
    """Every custom domain name of one region (shared by REST, HTTP and WebSocket APIs)."""
    region = need_region("apigateway.domain_names", region)
    items = paginate(ctx.client("apigateway", region), "get_domain_names", "items")
    return {DOMAIN_NAMES: [transform_domain_name(ctx.account_id, region, d) for d in items]}


register(
    Resource(
        name="apigateway.rest_apis",
        service="apigateway",
        tables=REST_API_TABLES,
        permissions=READ,
        fetch=fetch_rest_apis,
        description="API Gateway REST APIs and stages: logging, caching, WAF, client certificate.",
    )
)
register(
    Resource(
        name="apigateway.domain_names",
        service="apigateway",
        tables=(DOMAIN_NAMES,),
        permissions=READ,
        fetch=fetch_domain_names,
        description="API Gateway custom domain names and their TLS security policy.",
    )
)
