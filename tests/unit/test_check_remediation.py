"""Every AWS check's remediation gives a CLI command, console steps and a Terraform snippet.

Issue 4: a check's remediation carries the three ways to fix it, each on a line of its own
(`CLI:`, `Console:`, `Terraform:`). The AWS CLI commands it quotes are checked against botocore's
service models (operation names map to CLI commands in kebab-case, input members to `--flags`), so
a misspelt command or an invented flag fails here rather than in a user's terminal.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

import botocore.session
import pytest
import yaml
from botocore import xform_name
from botocore.model import ServiceModel, Shape

from opencwpp.checks import Check, builtin_checks

LABELS = ("CLI:", "Console:", "Terraform:")
# Lines that say a route does not exist instead of inventing one.
NO_ROUTE = re.compile(r"\bnot (possible|applicable)\b", re.IGNORECASE)

# The CLI's command names that differ from botocore's service names.
CLI_SERVICE = {"s3api": "s3", "configservice": "config", "deploy": "codedeploy"}
# Options every command accepts (awscli global and pagination options).
GLOBAL_FLAGS = frozenset(
    {
        "region",
        "profile",
        "output",
        "query",
        "endpoint-url",
        "no-cli-pager",
        "cli-input-json",
        "cli-input-yaml",
        "generate-cli-skeleton",
        "no-paginate",
        "max-items",
        "page-size",
        "starting-token",
        "debug",
    }
)
# Options awscli adds or renames on top of the service model (its customizations: argrename.py,
# ec2/secgroupsimplify.py, ec2/runinstances.py, ec2/addcount.py, configservice, iamvirtmfa.py).
# "*" stands for every command of the service.
_SECGROUP_FLAGS = frozenset({"protocol", "port", "cidr", "source-group", "group-owner"})
CUSTOM_FLAGS: dict[tuple[str, str], frozenset[str]] = {
    ("config", "put-configuration-recorder"): frozenset({"recording-group"}),
    ("iam", "create-virtual-mfa-device"): frozenset({"outfile", "bootstrap-method"}),
    ("ec2", "*"): frozenset({"ingress", "enable-api-termination"}),
    ("ec2", "create-image"): frozenset({"reboot"}),
    ("ec2", "run-instances"): frozenset(
        {
            "count",
            "associate-public-ip-address",
            "no-associate-public-ip-address",
            "secondary-private-ip-addresses",
            "secondary-private-ip-address-count",
        }
    ),
    ("ec2", "authorize-security-group-ingress"): _SECGROUP_FLAGS,
    ("ec2", "authorize-security-group-egress"): _SECGROUP_FLAGS,
    ("ec2", "revoke-security-group-ingress"): _SECGROUP_FLAGS,
    ("ec2", "revoke-security-group-egress"): _SECGROUP_FLAGS,
    ("eks", "create-cluster"): frozenset({"kubernetes-version"}),
    ("eks", "update-cluster-version"): frozenset({"kubernetes-version"}),
    ("eks", "create-nodegroup"): frozenset({"kubernetes-version"}),
    ("eks", "update-nodegroup-version"): frozenset({"kubernetes-version"}),
    ("sns", "subscribe"): frozenset({"notification-endpoint"}),
}
# Commands that exist only in awscli (high-level `aws s3`, helpers); their flags are not checked.
CLI_ONLY = frozenset(
    {
        ("s3", "cp"),
        ("s3", "ls"),
        ("s3", "mb"),
        ("s3", "mv"),
        ("s3", "presign"),
        ("s3", "rb"),
        ("s3", "rm"),
        ("s3", "sync"),
        ("ecr", "get-login-password"),
        ("eks", "update-kubeconfig"),
        ("cloudtrail", "validate-logs"),
        ("sso", "login"),  # AWS CLI v2
    }
)

_COMMAND = re.compile(r"^aws\s+([a-z0-9-]+)\s+([a-z0-9-]+)(.*)$")
_FLAG = re.compile(r"(?<![\w-])--([a-z0-9][a-z0-9-]*)")


def _aws_checks() -> list[Check]:
    return [c for c in builtin_checks() if c.meta.provider == "aws"]


def _raw_remediation(check: Check) -> str:
    # The model folds whitespace for reports; the file keeps the lines the labels start.
    raw = yaml.safe_load((check.folder / "metadata.yaml").read_text(encoding="utf-8"))
    return str(raw["remediation"])


def cli_commands(text: str) -> Iterator[str]:
    """The `aws ...` commands quoted in backticks (chained with && or ; split apart)."""
    flat = " ".join(text.split())
    for span in re.findall(r"`([^`]*)`", flat):
        for piece in re.split(r"&&|;|\|", span):
            if piece.strip().startswith("aws "):
                yield piece.strip()


@cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


@cache
def _service(name: str) -> ServiceModel | None:
    if name not in _session().get_available_services():
        return None
    return _session().get_service_model(name)


def _boolean_value(shape: Shape) -> bool:
    # awscli turns EC2's {"Value": boolean} structures into --flag / --no-flag.
    members = getattr(shape, "members", {})
    return list(members) == ["Value"] and members["Value"].type_name == "boolean"


@cache
def _operations(name: str) -> dict[str, frozenset[str]]:
    """CLI command name -> the flags its input accepts, for one botocore service."""
    model = _service(name)
    assert model is not None
    ops: dict[str, frozenset[str]] = {}
    for op_name in model.operation_names:
        shape = model.operation_model(op_name).input_shape
        flags: set[str] = set()
        for member, member_shape in shape.members.items() if shape is not None else ():
            flag = xform_name(member, "-")
            flags.add(flag)
            if member_shape.type_name == "boolean" or (
                name == "ec2" and _boolean_value(member_shape)
            ):
                flags.add(f"no-{flag}")
        ops[xform_name(op_name, "-")] = frozenset(flags)
    return ops


def cli_problems(command: str) -> list[str]:
    """Why an `aws SERVICE COMMAND --flags` line would not run; empty when it names real things."""
    match = _COMMAND.match(command)
    if match is None:
        return [f"not an `aws SERVICE COMMAND` line: {command!r}"]
    cli_service, operation, rest = match.groups()
    if (cli_service, operation) in CLI_ONLY:
        return []
    if cli_service in CLI_SERVICE.values():
        # `aws s3` is the high-level command set and `aws config` does not exist: the API
        # commands live under `aws s3api` and `aws configservice`.
        return [f"no command `aws {cli_service} {operation}`"]
    service = CLI_SERVICE.get(cli_service, cli_service)
    if _service(service) is None:
        return [f"no AWS CLI service {cli_service!r}"]
    known = _operations(service).get(operation)
    if known is None:
        return [f"no command `aws {cli_service} {operation}`"]
    allowed = (
        known
        | GLOBAL_FLAGS
        | CUSTOM_FLAGS.get((service, operation), frozenset())
        | CUSTOM_FLAGS.get((service, "*"), frozenset())
    )
    return [
        f"`aws {cli_service} {operation}` has no option --{flag}"
        for flag in _FLAG.findall(rest)
        if flag not in allowed
    ]


@pytest.mark.parametrize("check", _aws_checks(), ids=lambda c: c.id)
def test_remediation_has_cli_console_and_terraform_lines(check: Check) -> None:
    lines = [line.strip() for line in _raw_remediation(check).splitlines()]
    for label in LABELS:
        found = [line for line in lines if line.startswith(label)]
        assert found, f"{check.folder}/metadata.yaml: remediation has no line starting {label!r}"
        assert len(found[0]) > len(label) + 5, f"{check.id}: {label} line is empty"
    cli = next(line for line in lines if line.startswith("CLI:"))
    text = _raw_remediation(check)
    assert "`aws " in text or NO_ROUTE.search(cli), (
        f"{check.id}: the CLI line quotes no `aws ...` command and does not say why"
    )


@pytest.mark.parametrize("check", _aws_checks(), ids=lambda c: c.id)
def test_remediation_cli_commands_exist(check: Check) -> None:
    problems = [p for cmd in cli_commands(_raw_remediation(check)) for p in cli_problems(cmd)]
    assert not problems, f"{check.folder}/metadata.yaml: " + "; ".join(problems)


def test_the_cli_validator_accepts_real_commands() -> None:
    text = (
        "CLI: `aws s3api put-bucket-versioning --bucket B --versioning-configuration "
        "Status=Enabled --region REGION` and\n`aws rds modify-db-instance "
        "--db-instance-identifier DB --no-deletion-protection && aws kms enable-key --key-id K`;"
        " `aws configservice put-configuration-recorder --configuration-recorder name=x "
        "--recording-group allSupported=true`, `aws s3 ls s3://B --recursive`."
    )
    commands = list(cli_commands(text))
    assert len(commands) == 5
    assert [p for c in commands for p in cli_problems(c)] == []


@pytest.mark.parametrize(
    ("command", "problem"),
    [
        (
            "aws ec2 modify-instance-metadata-options --http-token required",
            "no option --http-token",
        ),
        (
            "aws s3api put-bucket-versionin --bucket B",
            "no command `aws s3api put-bucket-versionin`",
        ),
        ("aws s3 put-bucket-versioning --bucket B", "no command `aws s3 put-bucket-versioning`"),
        ("aws nosuchservice list-things", "no AWS CLI service 'nosuchservice'"),
        ("aws iam create-virtual-mfa-device --recording-group x", "no option --recording-group"),
    ],
)
def test_the_cli_validator_rejects_invented_commands(command: str, problem: str) -> None:
    assert any(problem in p for p in cli_problems(command)), cli_problems(command)
