"""API Gateway v2 (HTTP and WebSocket) APIs, their stages and their routes.

Stages carry access logging (`access_log_settings`) and, for WebSocket APIs, execution logging in
`default_route_settings`; routes carry the authorization type. Stage variables are stored as
fingerprints (they often hold backend credentials), secret-looking ones reported in
`cwpp_aws_secret_exposures`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opencwpp.collect.aws._apigateway import apigateway_arn, redact_variables
from opencwpp.collect.aws._secrets import EXPOSURES, exposure_rows
from opencwpp.collect.aws._shape import columns, empty, extend, need_region, shape, with_ids
from opencwpp.collect.base import Resource, Rows, SessionContext, paginate, register
from opencwpp.lake.schema import table

APIS = table(
    "aws_apigatewayv2_apis",
    columns(
        """
        account_id region arn id name protocol_type route_selection_expression api_endpoint
        api_gateway_managed:bool api_id api_key_selection_expression cors_configuration:json
        created_date:ts description disable_execute_api_endpoint:bool
        disable_schema_validation:bool import_info:list tags:json version warnings:list
        """
    ),
    cq_id_from=["account_id", "arn"],
)
STAGES = table(
    "aws_apigatewayv2_api_stages",
    columns(
        """
        account_id region api_arn api_id arn stage_name access_log_settings:json
        api_gateway_managed:bool auto_deploy:bool client_certificate_id created_date:ts
        default_route_settings:json deployment_id description last_deployment_status_message
        last_updated_date:ts route_settings:json stage_variables:json tags:json
        """
    ),
    cq_id_from=["account_id", "arn"],
    parent="aws_apigatewayv2_apis",
)
ROUTES = table(
    "aws_apigatewayv2_api_routes",
    columns(
        """
        account_id region api_arn api_id arn route_key api_gateway_managed:bool
        api_key_required:bool authorization_scopes:list authorization_type authorizer_id
        model_selection_expression operation_name request_models:json request_parameters:json
        route_id route_response_selection_expression target
        """
    ),
    cq_id_from=["account_id", "arn"],
    parent="aws_apigatewayv2_apis",
)
V2_TABLES = (APIS, STAGES, ROUTES, EXPOSURES)


def transform_api(
    account_id: str,
    region: str,
    api: Mapping[str, Any],
    stages: Sequence[Mapping[str, Any]],
    routes: Sequence[Mapping[str, Any]],
) -> Rows:
    """Rows of one HTTP or WebSocket API: itself, its stages, its routes, secret exposures."""
    api_id = str(api["ApiId"])
    api_arn = apigateway_arn(region, f"/apis/{api_id}")
    base: dict[str, Any] = {"account_id": account_id, "region": region}
    parent = with_ids(APIS, shape(APIS, api, arn=api_arn, id=api_id, **base))
    out = empty(V2_TABLES)
    out[APIS].append(parent)
    child = {"api_arn": api_arn, "api_id": api_id, **base}
    for stage in stages:
        stage_arn = f"{api_arn}/stages/{stage['StageName']}"
        variables, found = redact_variables(
            stage.get("StageVariables"), "apigatewayv2.stage.variables"
        )
        row = shape(STAGES, stage, arn=stage_arn, stage_variables=variables, **child)
        out[STAGES].append(with_ids(STAGES, row, parent))
        out[EXPOSURES] += exposure_rows(
            found, source_table=STAGES.name, resource_arn=stage_arn, **base
        )
    for route in routes:
        route_arn = f"{api_arn}/routes/{route['RouteId']}"
        row = shape(ROUTES, route, arn=route_arn, **child)
        out[ROUTES].append(with_ids(ROUTES, row, parent))
    return out


def fetch_apis(ctx: SessionContext, region: str | None) -> Rows:
    """Every HTTP and WebSocket API of one region with its stages and routes."""
    region = need_region("apigatewayv2.apis", region)
    client = ctx.client("apigatewayv2", region)
    out = empty(V2_TABLES)
    for api in paginate(client, "get_apis", "Items"):
        api_id = api["ApiId"]
        stages = paginate(client, "get_stages", "Items", ApiId=api_id)
        routes = paginate(client, "get_routes", "Items", ApiId=api_id)
        extend(out, transform_api(ctx.account_id, region, api, stages, routes))
    return out


register(
    Resource(
        name="apigatewayv2.apis",
        service="apigatewayv2",
        tables=V2_TABLES,
        permissions=("apigateway:GET",),
        fetch=fetch_apis,
        description="API Gateway HTTP and WebSocket APIs: stages (access logging) and routes.",
    )
)
