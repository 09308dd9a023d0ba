"""What the lake knows of a workload's exposure and role, for the vulnerability priority.

Read from what the other analyses already stored, never recomputed: the open (FAIL or muted)
findings of the internet-exposure checks and of the IAM engine (effective admin, escalation
path), joined to the workload through the inventory (instance profile, function role, ECS
service -> task definition -> container image). When the lake lacks a table or a finding, the
workload simply gets no such reason: absence of evidence is not raised as exposure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from opencwpp.lake.lake import Lake
from opencwpp.vuln.scoring import WorkloadContext

# check id -> what its FAIL says about the resource, as a priority reason.
EXPOSURE_CHECKS = {
    "ec2_instance_public_and_open_to_internet": (
        "public address with security groups open to the internet"
    ),
    "lambda_function_url_auth_none": "function URL without authentication",
    "lambda_function_policy_public": "function policy lets everyone invoke it",
    "ecs_service_public_ip": "ECS service {name} gives its tasks public IP addresses",
}
ADMIN_CHECK = "iam_principal_effective_admin"
ESCALATION_CHECK = "iam_privesc_path"
_OPEN = ("FAIL", "MUTED")  # a muted exposure is accepted, not gone


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return None
    return value


def split_image(image: str) -> tuple[str, str, str]:
    """(repository URI, tag, digest) of a container image reference (`repo[:tag][@digest]`)."""
    ref, _, digest = image.partition("@")
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        return ref[:colon], ref[colon + 1 :], digest
    return ref, ("" if digest else "latest"), digest


@dataclass
class _Service:
    arn: str
    name: str
    task_role: str
    images: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class ContextIndex:
    """Exposure and role facts of the lake, loaded once per scan run."""

    lake: Lake
    _open: dict[str, dict[str, str]] = field(default_factory=dict)
    _lambda_roles: dict[str, str] = field(default_factory=dict)
    _instance_roles: dict[str, list[str]] = field(default_factory=dict)
    _services: list[_Service] = field(default_factory=list)
    _loaded: bool = False

    def _has(self, *tables: str) -> bool:
        return all(self.lake.table_exists(t) for t in tables)

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if self._has("cwpp_findings"):
            checks = [*EXPOSURE_CHECKS, ADMIN_CHECK, ESCALATION_CHECK]
            marks = ", ".join("?" for _ in checks)
            rows = self.lake.query(
                "SELECT check_id, resource_uid, resource_name FROM cwpp_findings "
                f"WHERE check_id IN ({marks}) AND status IN (?, ?)",
                [*checks, *_OPEN],
            )
            for row in rows:
                by_uid = self._open.setdefault(row["check_id"], {})
                by_uid[row["resource_uid"]] = str(row["resource_name"] or "")
        if self._has("aws_lambda_functions"):
            for row in self.lake.query("SELECT arn, configuration FROM aws_lambda_functions"):
                role = (_json(row["configuration"]) or {}).get("Role")
                if role:
                    self._lambda_roles[row["arn"]] = str(role)
        self._load_instances()
        self._load_services()

    def _load_instances(self) -> None:
        if not self._has("aws_ec2_instances", "aws_iam_instance_profiles"):
            return
        profiles: dict[str, list[str]] = {}
        for row in self.lake.query("SELECT arn, roles FROM aws_iam_instance_profiles"):
            roles = _json(row["roles"]) or []
            profiles[row["arn"]] = [str(r["Arn"]) for r in roles if isinstance(r, dict)]
        for row in self.lake.query("SELECT arn, iam_instance_profile FROM aws_ec2_instances"):
            profile = (_json(row["iam_instance_profile"]) or {}).get("Arn")
            if profile in profiles:
                self._instance_roles[row["arn"]] = profiles[profile]

    def _load_services(self) -> None:
        tables = (
            "aws_ecs_cluster_services",
            "aws_ecs_task_definitions",
            "cwpp_aws_ecs_task_definition_containers",
        )
        if not self._has(*tables):
            return
        roles = {
            r["arn"]: str(r["task_role_arn"] or "")
            for r in self.lake.query("SELECT arn, task_role_arn FROM aws_ecs_task_definitions")
        }
        images: dict[str, list[tuple[str, str, str]]] = {}
        rows = self.lake.query(
            "SELECT task_definition_arn, image FROM cwpp_aws_ecs_task_definition_containers"
        )
        for row in rows:
            if row["image"]:
                images.setdefault(row["task_definition_arn"], []).append(
                    split_image(str(row["image"]))
                )
        query = "SELECT arn, service_name, task_definition, status FROM aws_ecs_cluster_services"
        for row in self.lake.query(query):
            if str(row["status"] or "") == "INACTIVE":
                continue
            task = str(row["task_definition"] or "")
            service = _Service(str(row["arn"]), str(row["service_name"] or ""), roles.get(task, ""))
            service.images = images.get(task, [])
            self._services.append(service)

    def _roles(self, roles: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        admin = self._open.get(ADMIN_CHECK, {})
        escalate = self._open.get(ESCALATION_CHECK, {})
        return (
            tuple(f"role {r} is effectively admin ({ADMIN_CHECK})" for r in roles if r in admin),
            tuple(
                f"role {r} can escalate to admin ({ESCALATION_CHECK})"
                for r in roles
                if r in escalate and r not in admin
            ),
        )

    def _exposure(self, uid: str, checks: tuple[str, ...]) -> list[str]:
        return [
            f"{EXPOSURE_CHECKS[c].format(name=self._open[c][uid])} ({c})"
            for c in checks
            if uid in self._open.get(c, {})
        ]

    def for_lambda(self, arn: str) -> WorkloadContext:
        """A function: a URL without auth or a public policy; its execution role."""
        self._load()
        exposure = self._exposure(
            arn, ("lambda_function_url_auth_none", "lambda_function_policy_public")
        )
        role = self._lambda_roles.get(arn)
        admin, escalating = self._roles([role] if role else [])
        return WorkloadContext(tuple(exposure), admin, escalating)

    def for_instance(self, arn: str) -> WorkloadContext:
        """An EC2 instance: public and open to the internet; its instance profile's roles."""
        self._load()
        exposure = self._exposure(arn, ("ec2_instance_public_and_open_to_internet",))
        admin, escalating = self._roles(self._instance_roles.get(arn, []))
        return WorkloadContext(tuple(exposure), admin, escalating)

    def for_image(self, repository_uri: str, digest: str, tags: list[str]) -> WorkloadContext:
        """An ECR image: the active ECS services running it (by digest or tag), their task role."""
        self._load()
        exposure: list[str] = []
        roles: list[str] = []
        for service in self._services:
            runs = any(
                uri == repository_uri and ((d and d == digest) or (not d and tag in tags))
                for uri, tag, d in service.images
            )
            if not runs:
                continue
            exposure += self._exposure(service.arn, ("ecs_service_public_ip",))
            if service.task_role and service.task_role not in roles:
                roles.append(service.task_role)
        admin, escalating = self._roles(roles)
        return WorkloadContext(tuple(exposure), admin, escalating)
