"""API Gateway REST API resources and their methods (authorization type, API key, integration).

One `GetResources` call per page with `embed=methods` returns every resource with its methods, so
the methods cost no extra call. A method integration can inject a backend credential as a static
request parameter or in a mapping template: those values are stored as fingerprints only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.aws._apigateway import apigateway_arn, go_keys, redact_integration
from opencwpp.collect.aws._secrets import EXPOSURES, Exposure, exposure_rows
from opencwpp.collect.aws._shape import columns, empty, extend, need_region, shape, with_ids
from opencwpp.collect.base import Resource, Rows, SessionContext, paginate, register
from opencwpp.lake.schema import cq_id, table

RESOURCES = table(
    "aws_apigateway_rest_api_resources",
    columns("account_id region rest_api_arn arn id parent_id path path_part resource_methods:json"),
    cq_id_from=["account_id", "arn"],
    parent="aws_apigateway_rest_apis",
)
METHODS = table(
    "aws_apigateway_rest_api_resource_methods",
    columns(
        """
        account_id region rest_api_arn resource_arn arn api_key_required:bool
        authorization_scopes:list authorization_type authorizer_id http_method
        method_integration:json method_responses:json operation_name request_models:json
        request_parameters:json request_validator_id
        """
    ),
    cq_id_from=["account_id", "arn"],
    parent="aws_apigateway_rest_api_resources",
)
METHOD_TABLES = (RESOURCES, METHODS, EXPOSURES)


def _clean_methods(
    methods: Mapping[str, Any], location: str
) -> tuple[dict[str, dict[str, Any]], list[Exposure]]:
    clean: dict[str, dict[str, Any]] = {}
    found: list[Exposure] = []
    for verb, method in methods.items():
        method = dict(method)
        if "methodIntegration" in method:
            integration, more = redact_integration(
                method["methodIntegration"], f"{location}.{verb}.integration"
            )
            method["methodIntegration"] = integration
            found += more
        clean[str(verb)] = method
    return clean, found


def transform_resource(
    account_id: str, region: str, rest_api_id: str, resource: Mapping[str, Any]
) -> Rows:
    """Rows of one API resource (a path) and of each of its methods."""
    api_arn = apigateway_arn(region, f"/restapis/{rest_api_id}")
    resource_arn = f"{api_arn}/resources/{resource['id']}"
    base: dict[str, Any] = {"account_id": account_id, "region": region, "rest_api_arn": api_arn}
    location = f"apigateway.method.{resource.get('path', '')}"
    methods, found = _clean_methods(resource.get("resourceMethods") or {}, location)
    raw = go_keys({**resource, "resourceMethods": None})
    row = shape(RESOURCES, raw, arn=resource_arn, resource_methods=go_keys(methods) or None, **base)
    parent = with_ids(RESOURCES, row, {"_cq_id": cq_id({"arn": api_arn}, ["arn"])})
    out = empty(METHOD_TABLES)
    out[RESOURCES].append(parent)
    for verb, method in sorted(methods.items()):
        child = shape(
            METHODS,
            go_keys(method),
            resource_arn=resource_arn,
            arn=f"{resource_arn}/methods/{verb}",
            http_method=method.get("httpMethod") or verb,
            **base,
        )
        out[METHODS].append(with_ids(METHODS, child, parent))
    out[EXPOSURES] = exposure_rows(
        found,
        account_id=account_id,
        region=region,
        source_table=METHODS.name,
        resource_arn=resource_arn,
    )
    return out


def fetch_resources(ctx: SessionContext, region: str | None) -> Rows:
    """Every resource and method of every REST API of one region."""
    region = need_region("apigateway.rest_api_resources", region)
    client = ctx.client("apigateway", region)
    out = empty(METHOD_TABLES)
    for api in paginate(client, "get_rest_apis", "items"):
        items = paginate(client, "get_resources", "items", restApiId=api["id"], embed=["methods"])
        for resource in items:
            extend(out, transform_resource(ctx.account_id, region, api["id"], resource))
    return out


register(
    Resource(
        name="apigateway.rest_api_resources",
        service="apigateway",
        tables=METHOD_TABLES,
        permissions=("apigateway:GET",),
        fetch=fetch_resources,
        description="API Gateway REST API resources and methods: authorization, API keys.",
    )
)
