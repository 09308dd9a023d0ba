"""RDS DB and cluster parameter groups with their parameters (`rds.force_ssl`, ...).

Every parameter of every group is a row (engine defaults included: PostgreSQL 15+ turns
`rds.force_ssl` on by default), so a check can tell what a database in use actually enforces.
Parameter values are engine settings, not secrets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from opencwpp.collect.aws._shape import columns, empty, need_region, shape, with_ids
from opencwpp.collect.base import (
    Resource,
    Rows,
    SessionContext,
    error_code,
    paginate,
    register,
)
from opencwpp.lake.schema import Table, table

DB_GROUPS = table(
    "aws_rds_db_parameter_groups",
    columns(
        """
        account_id region arn tags:json db_parameter_group_arn db_parameter_group_family
        db_parameter_group_name description
        """
    ),
    cq_id_from=["arn"],
)
DB_PARAMETERS = table(
    "aws_rds_db_parameter_group_db_parameters",
    columns(
        """
        account_id region db_parameter_group_arn allowed_values apply_method apply_type
        data_type description is_modifiable:bool minimum_engine_version parameter_name
        parameter_value source supported_engine_modes:list
        """
    ),
    cq_id_from=["db_parameter_group_arn", "parameter_name"],
    parent="aws_rds_db_parameter_groups",
)
CLUSTER_GROUPS = table(
    "aws_rds_cluster_parameter_groups",
    columns(
        """
        account_id region arn tags:json db_cluster_parameter_group_arn
        db_cluster_parameter_group_name db_parameter_group_family description
        """
    ),
    cq_id_from=["arn"],
)
CLUSTER_PARAMETERS = table(
    "aws_rds_cluster_parameter_group_parameters",
    columns(
        """
        account_id region cluster_parameter_group_arn allowed_values apply_method apply_type
        data_type description is_modifiable:bool minimum_engine_version parameter_name
        parameter_value source supported_engine_modes:list
        """
    ),
    cq_id_from=["cluster_parameter_group_arn", "parameter_name"],
    parent="aws_rds_cluster_parameter_groups",
)


@dataclass(frozen=True, slots=True)
class _Kind:
    """How one kind of parameter group is listed, named and read."""

    groups: Table
    parameters: Table
    list_operation: str
    list_key: str
    arn_field: str
    name_field: str
    parameters_operation: str
    parent_column: str


_DB = _Kind(
    DB_GROUPS,
    DB_PARAMETERS,
    "describe_db_parameter_groups",
    "DBParameterGroups",
    "DBParameterGroupArn",
    "DBParameterGroupName",
    "describe_db_parameters",
    "db_parameter_group_arn",
)
_CLUSTER = _Kind(
    CLUSTER_GROUPS,
    CLUSTER_PARAMETERS,
    "describe_db_cluster_parameter_groups",
    "DBClusterParameterGroups",
    "DBClusterParameterGroupArn",
    "DBClusterParameterGroupName",
    "describe_db_cluster_parameters",
    "cluster_parameter_group_arn",
)


def transform_group(
    kind: _Kind,
    account_id: str,
    region: str,
    group: Mapping[str, Any],
    parameters: Iterable[Mapping[str, Any]],
    tags: Any = None,
) -> Rows:
    """The row of one parameter group and one row per parameter."""
    group_arn = str(group[kind.arn_field])
    parent = with_ids(
        kind.groups,
        shape(
            kind.groups,
            group,
            account_id=account_id,
            region=region,
            arn=group_arn,
            tags=dict(tags or {}),
        ),
    )
    link: dict[str, Any] = {"account_id": account_id, "region": region}
    link[kind.parent_column] = group_arn
    rows = [
        with_ids(kind.parameters, shape(kind.parameters, parameter, **link), parent)
        for parameter in parameters
    ]
    return {kind.groups: [parent], kind.parameters: rows}


_GONE = frozenset({"DBParameterGroupNotFound", "DBParameterGroupNotFoundFault"})


def _parameters(rds: Any, kind: _Kind, group_name: str) -> list[Any] | None:
    """The group's parameters; None when the group was deleted since the listing."""
    try:
        return paginate(
            rds, kind.parameters_operation, "Parameters", **{kind.name_field: group_name}
        )
    except ClientError as err:
        if error_code(err) in _GONE:
            return None
        raise


def _fetcher(kind: _Kind, name: str) -> Any:
    def fetch(ctx: SessionContext, region: str | None) -> Rows:
        region = need_region(name, region)
        rds = ctx.client("rds", region)
        out = empty([kind.groups, kind.parameters])
        for group in paginate(rds, kind.list_operation, kind.list_key):
            parameters = _parameters(rds, kind, group[kind.name_field])
            if parameters is None:
                continue
            answer = rds.list_tags_for_resource(ResourceName=group[kind.arn_field])
            tags = {t["Key"]: t.get("Value", "") for t in answer.get("TagList", [])}
            rows = transform_group(kind, ctx.account_id, region, group, parameters, tags)
            for tbl, items in rows.items():
                out[tbl].extend(items)
        return out

    fetch.__doc__ = f"Every {kind.groups.name} row of one region with its parameters."
    return fetch


for _name, _kind, _perms, _what in (
    (
        "rds.db_parameter_groups",
        _DB,
        ("rds:DescribeDBParameterGroups", "rds:DescribeDBParameters"),
        "RDS DB parameter groups and their parameters",
    ),
    (
        "rds.cluster_parameter_groups",
        _CLUSTER,
        ("rds:DescribeDBClusterParameterGroups", "rds:DescribeDBClusterParameters"),
        "RDS / Aurora cluster parameter groups and their parameters",
    ),
):
    register(
        Resource(
            name=_name,
            service="rds",
            tables=(_kind.groups, _kind.parameters),
            permissions=(*_perms, "rds:ListTagsForResource"),
            fetch=_fetcher(_kind, _name),
            description=f"{_what}.",
        )
    )
