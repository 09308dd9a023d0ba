"""ECS task definitions: containers (privileged, user, image), network and PID modes, roles.

Container environment values are secrets: each becomes `redacted:sha256:<12 hex>` in
`container_definitions` (names kept), and secret-looking ones add a `cwpp_aws_secret_exposures`
row, as Lambda environments do. `secrets` entries are references (`valueFrom`), kept as they are.
Each container is also a row of `cwpp_aws_ecs_task_definition_containers`, so checks never walk
the JSON list. Only ACTIVE revisions are listed (ListTaskDefinitions' default).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.aws._secrets import EXPOSURES, Exposure, exposure_rows, redact_environment
from opencwpp.collect.aws._shape import (
    columns,
    empty,
    extend,
    need_region,
    shape,
    tags_of,
    with_ids,
)
from opencwpp.collect.base import (
    Resource,
    Row,
    Rows,
    SessionContext,
    paginate,
    register,
)
from opencwpp.lake.schema import table

TASK_DEFINITIONS = table(
    "aws_ecs_task_definitions",
    columns(
        """
        account_id region arn tags:json compatibilities:list container_definitions:json cpu
        deregistered_at:ts ephemeral_storage:json execution_role_arn family
        inference_accelerators:json ipc_mode memory network_mode pid_mode
        placement_constraints:json proxy_configuration:json registered_at:ts registered_by
        requires_attributes:json requires_compatibilities:list revision:int
        runtime_platform:json status task_definition_arn task_role_arn volumes:json
        """
    ),
    cq_id_from=["arn"],
)
CONTAINERS = table(
    "cwpp_aws_ecs_task_definition_containers",
    columns(
        """
        account_id region task_definition_arn family container_name image privileged:bool
        container_user readonly_root_filesystem:bool essential:bool environment_count:int
        secrets_count:int log_driver
        """
    ),
    cq_id_from=["task_definition_arn", "container_name"],
    parent="aws_ecs_task_definitions",
    indexes=[("task_definition_arn",)],
    description="One row per container definition of an ECS task definition.",
)
TABLES = (TASK_DEFINITIONS, CONTAINERS, EXPOSURES)
# Map-typed fields whose keys are user data (label names, log driver options), not SDK fields.
_USER_KEYED = frozenset({"dockerLabels", "options", "driverOpts", "labels"})


def pascal(value: Any) -> Any:
    """PascalCase keys (as CloudQuery's Go SDK JSON), leaving user-defined map keys alone."""
    if isinstance(value, Mapping):
        return {
            (k[:1].upper() + k[1:]): (v if k in _USER_KEYED else pascal(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [pascal(v) for v in value]
    return value


def redact_container(container: Mapping[str, Any]) -> tuple[dict[str, Any], list[Exposure]]:
    """The container definition with each environment value fingerprinted; secrets found."""
    out = dict(container)
    environment = container.get("environment")
    if not environment:
        return out, []
    pairs = {str(e.get("name")): e.get("value") for e in environment if isinstance(e, Mapping)}
    location = f"ecs.container.{container.get('name')}.environment"
    redacted, found = redact_environment(pairs, location)
    out["environment"] = [{"name": k, "value": v} for k, v in redacted.items()]
    return out, found


def container_row(parent: Row, container: Mapping[str, Any]) -> Row:
    """The `cwpp_aws_ecs_task_definition_containers` row of one container definition."""
    row: Row = {
        "account_id": parent["account_id"],
        "region": parent["region"],
        "task_definition_arn": parent["arn"],
        "family": parent.get("family"),
        "container_name": container.get("name"),
        "image": container.get("image"),
        "privileged": container.get("privileged"),
        "container_user": container.get("user"),
        "readonly_root_filesystem": container.get("readonlyRootFilesystem"),
        "essential": container.get("essential"),
        "environment_count": len(container.get("environment") or []),
        "secrets_count": len(container.get("secrets") or []),
        "log_driver": (container.get("logConfiguration") or {}).get("logDriver"),
    }
    return with_ids(CONTAINERS, row, parent)


def transform_task_definition(
    account_id: str, region: str, definition: Mapping[str, Any], tags: Any = None
) -> Rows:
    """The task definition row (environment redacted), its container rows and exposures."""
    td_arn = str(definition["taskDefinitionArn"])
    containers: list[dict[str, Any]] = []
    found: list[Exposure] = []
    for container in definition.get("containerDefinitions") or []:
        redacted, exposures = redact_container(container)
        containers.append(redacted)
        found += exposures
    raw = pascal({k: v for k, v in definition.items() if k != "containerDefinitions"})
    row = shape(
        TASK_DEFINITIONS,
        raw,
        account_id=account_id,
        region=region,
        arn=td_arn,
        tags=tags_of(tags),
        container_definitions=pascal(containers),
    )
    parent = with_ids(TASK_DEFINITIONS, row)
    return {
        TASK_DEFINITIONS: [parent],
        CONTAINERS: [container_row(parent, c) for c in containers],
        EXPOSURES: exposure_rows(
            found,
            account_id=account_id,
            region=region,
            source_table=TASK_DEFINITIONS.name,
            resource_arn=td_arn,
        ),
    }


def fetch_task_definitions(ctx: SessionContext, region: str | None) -> Rows:
    """Every ACTIVE task definition revision of one region, environment values redacted."""
    region = need_region("ecs.task_definitions", region)
    ecs = ctx.client("ecs", region)
    out = empty(TABLES)
    for td_arn in paginate(ecs, "list_task_definitions", "taskDefinitionArns"):
        # A deregistered revision is still described, so the listing cannot go stale here.
        answer = ecs.describe_task_definition(taskDefinition=td_arn, include=["TAGS"])
        definition = answer["taskDefinition"]
        tags = answer.get("tags")
        extend(out, transform_task_definition(ctx.account_id, region, definition, tags))
    return out


register(
    Resource(
        name="ecs.task_definitions",
        service="ecs",
        tables=TABLES,
        permissions=("ecs:ListTaskDefinitions", "ecs:DescribeTaskDefinition"),
        fetch=fetch_task_definitions,
        description="ECS task definitions: containers, modes, roles; environment secrets.",
    )
)
