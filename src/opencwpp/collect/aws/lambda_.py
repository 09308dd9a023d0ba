"""Lambda: functions (runtime, redacted environment, resource policy, URL config) and layers.

Environment variable values are never stored: each becomes `redacted:sha256:<12 hex>` in the
`configuration` column, and secret-looking ones add a `cwpp_aws_secret_exposures` row. The
code location (a presigned download URL) is dropped from `code`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.aws._secrets import EXPOSURES, Exposure, exposure_rows, redact_environment
from opencwpp.collect.aws._shape import columns, empty, extend, need_region, shape, with_ids
from opencwpp.collect.aws.policies import POLICY_TABLES, parse_document, split_policy
from opencwpp.collect.base import (
    Resource,
    Rows,
    SessionContext,
    optional,
    paginate,
    register,
    strip_metadata,
)
from opencwpp.lake.schema import table

FUNCTIONS = table(
    "aws_lambda_functions",
    columns(
        """
        account_id region arn policy_revision_id policy_document:json code_signing_config:json
        code_repository_type update_runtime_on runtime_version_arn code:json concurrency:json
        configuration:json tags:json
        """
    ),
    cq_id_from=["arn"],
)
URL_CONFIGS = table(
    "aws_lambda_function_url_configs",
    columns(
        """
        account_id region auth_type creation_time function_arn function_url last_modified_time
        cors:json invoke_mode
        """
    ),
    cq_id_from=["function_arn"],
    parent="aws_lambda_functions",
)
LAYERS = table(
    "aws_lambda_layers",
    columns("account_id region arn latest_matching_version:json layer_arn layer_name"),
    cq_id_from=["arn"],
)
FUNCTION_TABLES = (FUNCTIONS, URL_CONFIGS, EXPOSURES, *POLICY_TABLES)
_ABSENT = frozenset({"ResourceNotFoundException"})


def transform_function(account_id: str, region: str, details: Mapping[str, Any]) -> Rows:
    """Rows of one function from GetFunction and its policy / URL / signing answers."""
    configuration = dict(details["Configuration"])
    function_arn = str(configuration["FunctionArn"])
    env = dict(configuration.get("Environment") or {})
    found: list[Exposure] = []
    if "Variables" in env:
        env["Variables"], found = redact_environment(env["Variables"], "lambda.environment")
        configuration["Environment"] = env
    code = {k: v for k, v in (details.get("Code") or {}).items() if k != "Location"}
    policy = details.get("Policy")
    row = shape(
        FUNCTIONS,
        {},
        account_id=account_id,
        region=region,
        arn=function_arn,
        policy_revision_id=details.get("RevisionId"),
        policy_document=parse_document(policy) if policy else None,
        code_signing_config=details.get("CodeSigningConfig"),
        code_repository_type=code.get("RepositoryType"),
        code=code or None,
        concurrency=details.get("Concurrency"),
        configuration=configuration,
        tags=details.get("Tags") or {},
    )
    parent = with_ids(FUNCTIONS, row)
    out = empty(FUNCTION_TABLES)
    out[FUNCTIONS].append(parent)
    url = details.get("UrlConfig")
    if url:
        child = shape(URL_CONFIGS, url, account_id=account_id, region=region)
        out[URL_CONFIGS].append(with_ids(URL_CONFIGS, child, parent))
    out[EXPOSURES] = exposure_rows(
        found,
        account_id=account_id,
        region=region,
        source_table=FUNCTIONS.name,
        resource_arn=function_arn,
    )
    if policy:
        split = split_policy(
            policy, account_id=account_id, source_table=FUNCTIONS.name, source_arn=function_arn
        )
        extend(out, split)
    return out


def _details(lam: Any, name: str) -> dict[str, Any] | None:
    function = optional(lam.get_function, absent=_ABSENT, FunctionName=name)
    if function is None:
        return None  # deleted since the listing
    details = strip_metadata(function)
    policy = optional(lam.get_policy, absent=_ABSENT, FunctionName=name) or {}
    details["Policy"], details["RevisionId"] = policy.get("Policy"), policy.get("RevisionId")
    url = optional(lam.get_function_url_config, absent=_ABSENT, FunctionName=name)
    details["UrlConfig"] = strip_metadata(url) if url else None
    signing = optional(lam.get_function_code_signing_config, absent=_ABSENT, FunctionName=name)
    config_arn = (signing or {}).get("CodeSigningConfigArn")
    if config_arn:
        answer = optional(
            lam.get_code_signing_config, absent=_ABSENT, CodeSigningConfigArn=config_arn
        )
        details["CodeSigningConfig"] = (answer or {}).get("CodeSigningConfig")
    return details


def fetch_functions(ctx: SessionContext, region: str | None) -> Rows:
    """Every function of one region with its policy, URL config and code signing config."""
    region = need_region("lambda.functions", region)
    lam = ctx.client("lambda", region)
    out = empty(FUNCTION_TABLES)
    for function in paginate(lam, "list_functions", "Functions"):
        details = _details(lam, function["FunctionName"])
        if details is not None:
            extend(out, transform_function(ctx.account_id, region, details))
    return out


def transform_layer(account_id: str, region: str, layer: Mapping[str, Any]) -> Rows:
    """The row of one layer and its latest version."""
    row = shape(LAYERS, layer, account_id=account_id, region=region, arn=layer["LayerArn"])
    return {LAYERS: [with_ids(LAYERS, row)]}


def fetch_layers(ctx: SessionContext, region: str | None) -> Rows:
    """Every layer of one region."""
    region = need_region("lambda.layers", region)
    out = empty([LAYERS])
    for layer in paginate(ctx.client("lambda", region), "list_layers", "Layers"):
        extend(out, transform_layer(ctx.account_id, region, layer))
    return out


register(
    Resource(
        name="lambda.functions",
        service="lambda",
        tables=FUNCTION_TABLES,
        permissions=(
            "lambda:ListFunctions",
            "lambda:GetFunction",
            "lambda:GetPolicy",
            "lambda:GetFunctionUrlConfig",
            "lambda:GetFunctionCodeSigningConfig",
            "lambda:GetCodeSigningConfig",
        ),
        fetch=fetch_functions,
        description="Lambda functions: runtime, role, redacted environment, policy, URL config.",
    )
)
register(
    Resource(
        name="lambda.layers",
        service="lambda",
        tables=(LAYERS,),
        permissions=("lambda:ListLayers",),
        fetch=fetch_layers,
        description="Lambda layers and their latest version.",
    )
)
