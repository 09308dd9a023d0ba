"""The IAM engine over a real lake (DuckDB and PostgreSQL): loading, effective access, privesc and
exposure findings give the same answers on both backends."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from opencwpp.collect.aws.iam_managed_policies import transform_policy
from opencwpp.collect.aws.iam_principals import transform_principal
from opencwpp.collect.aws.iam_users import transform_user
from opencwpp.collect.aws.s3 import transform_bucket
from opencwpp.collect.aws.sqs import transform_queue
from opencwpp.findings import FindingFilter, load_findings
from opencwpp.iam.effective import compute, save, who_can, who_can_stored
from opencwpp.iam.exposure_findings import CROSS_ACCOUNT, PUBLIC, run_exposure
from opencwpp.iam.lake_policies import load_estate
from opencwpp.iam.privesc import CHECK_ID, run_privesc
from opencwpp.iam.privesc.findings import ADMIN_CHECK_ID
from opencwpp.lake import Lake
from opencwpp.lake.lake import Scope

A, B = "111122223333", "444455556666"
ADMIN_ARN = f"arn:aws:iam::{A}:policy/all"
BOUNDARY_ARN = f"arn:aws:iam::{A}:policy/no-passrole"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any, resource: str = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def _user(name: str, inline: dict[str, Any], **extra: Any) -> dict[str, Any]:
    arn = f"arn:aws:iam::{A}:user/{name}"
    user = {"Arn": arn, "UserName": name, "UserId": name.upper(), **extra}
    return transform_user(A, user, {"inline_policies": {"p": json.dumps(inline)}, **extra})


def _fill(lake: Lake) -> None:
    rows: dict[Any, list[dict[str, Any]]] = defaultdict(list)

    def add(found: Any) -> None:
        for tbl, items in found.items():
            rows[tbl].extend(items)

    admin = doc(allow("*"))
    for arn, body in ((ADMIN_ARN, admin), (BOUNDARY_ARN, doc(allow("ec2:*")))):
        name = arn.rsplit("/", 1)[1]
        policy = {"Arn": arn, "PolicyName": name, "PolicyId": name, "DefaultVersionId": "v1"}
        add(
            transform_policy(
                A, policy, {"Document": body, "VersionId": "v1", "IsDefaultVersion": True}
            )
        )
    passer = doc(allow(["iam:PassRole", "ec2:RunInstances"]))
    add(_user("dev", passer))
    bounded = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": BOUNDARY_ARN}
    add(_user("capped", passer, PermissionsBoundary=bounded))
    add(_user("reader", doc(allow("s3:GetObject", "arn:aws:s3:::vault/*"))))
    add(transform_bucket(A, {"Name": "vault"}, {"region": "eu-west-1"}))
    trust = doc(
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    )
    role = {
        "Arn": f"arn:aws:iam::{A}:role/box",
        "RoleName": "box",
        "AssumeRolePolicyDocument": json.dumps(trust),
    }
    add(transform_principal(A, "role", role, [{"PolicyArn": ADMIN_ARN, "PolicyName": "all"}], {}))
    shared = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
            "Action": "sts:AssumeRole",
        }
    )
    partner = {
        "Arn": f"arn:aws:iam::{A}:role/partner",
        "RoleName": "partner",
        "AssumeRolePolicyDocument": shared,
    }
    add(transform_principal(A, "role", partner, [], {}))
    public = doc(
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::data/*",
        }
    )
    add(
        transform_bucket(A, {"Name": "data"}, {"region": "eu-west-1", "policy": json.dumps(public)})
    )
    queue = f"arn:aws:sqs:eu-west-1:{A}:q"
    org_only = doc(
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "sqs:SendMessage",
            "Resource": queue,
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
        }
    )
    add(
        transform_queue(
            A, "eu-west-1", "https://q", {"QueueArn": queue, "Policy": json.dumps(org_only)}, {}
        )
    )
    lake.replace_scope(Scope(A, None), rows)


def test_estate_loads_the_same_from_both_backends(lake: Lake) -> None:
    _fill(lake)
    estate = load_estate(lake)
    dev = estate.principals[f"arn:aws:iam::{A}:user/dev"]
    assert [p.ref for p in dev.policies] == ["inline:user/dev/p"]
    capped = estate.principals[f"arn:aws:iam::{A}:user/capped"]
    assert capped.boundary is not None and capped.boundary.ref == BOUNDARY_ARN
    box = estate.principals[f"arn:aws:iam::{A}:role/box"]
    assert [p.ref for p in box.policies] == [ADMIN_ARN] and box.trust is not None
    assert set(estate.resources) == {"arn:aws:s3:::data", f"arn:aws:sqs:eu-west-1:{A}:q"}
    assert estate.warnings == []


def test_privesc_finding_names_the_path_and_skips_the_bounded_user(lake: Lake) -> None:
    _fill(lake)
    result, counts = run_privesc(lake, load_estate(lake))
    assert set(result.paths) == {f"arn:aws:iam::{A}:user/dev"}
    assert counts["NEW"] == 2  # dev's path, and the admin role box itself
    admins = load_findings(lake, FindingFilter(check_ids=(ADMIN_CHECK_ID,)))
    verdicts = {s.finding.resource.name: s.finding.status.value for s in admins}
    assert verdicts == {
        "box": "FAIL",
        "dev": "PASS",
        "capped": "PASS",
        "reader": "PASS",
        "partner": "PASS",
    }
    stored = [s.finding for s in load_findings(lake, FindingFilter(check_ids=(CHECK_ID,)))]
    assert [f.resource.uid for f in stored] == [f"arn:aws:iam::{A}:user/dev"]
    step = stored[0].evidence["path"][0]
    assert step["technique"] == "ec2-001" and step["to"] == f"arn:aws:iam::{A}:role/box"
    assert step["actions"][0]["statements"][0]["policy"] == "inline:user/dev/p"


def test_effective_access_table_answers_who_can(lake: Lake) -> None:
    _fill(lake)
    estate = load_estate(lake)
    save(lake, compute(estate))
    readers = who_can_stored(lake, "S3:GetObject", "arn:aws:s3:::vault/*")
    assert {r.principal_arn for r in readers} == {
        f"arn:aws:iam::{A}:user/reader",
        f"arn:aws:iam::{A}:role/box",
    }
    # The public bucket: every principal of the account, through the bucket policy alone.
    public = who_can_stored(lake, "s3:GetObject", "arn:aws:s3:::data/*")
    assert len({r.principal_arn for r in public}) == 5
    admins = who_can_stored(lake, "*:*", "*")
    assert {r.principal_arn for r in admins} == {f"arn:aws:iam::{A}:role/box"}
    passers = who_can_stored(lake, "iam:PassRole", f"arn:aws:iam::{A}:role/box")
    # The admin role can pass itself; the capped user's boundary leaves iam:PassRole out.
    expected = {f"arn:aws:iam::{A}:user/dev", f"arn:aws:iam::{A}:role/box"}
    assert {r.principal_arn for r in passers} == expected
    dev = next(r for r in passers if r.principal_arn.endswith(":user/dev"))
    assert dev.via == [
        {"policy": "inline:user/dev/p", "source": "identity", "statement": 0}
        | {"sid": None, "effect": "Allow"}
    ]
    now = who_can(estate, "iam:PassRole", f"arn:aws:iam::{A}:role/box")
    assert {r.principal_arn for r in now if r.decision == "Allow"} == expected


def test_exposure_findings_public_cross_account_and_restricted(lake: Lake) -> None:
    _fill(lake)
    found, _ = run_exposure(lake, load_estate(lake))
    by = {(f.check_id, f.resource.uid) for f in found}
    assert (PUBLIC, "arn:aws:s3:::data") in by
    assert (CROSS_ACCOUNT, f"arn:aws:iam::{A}:role/partner") in by
    assert not any(uid.endswith(":q") for _, uid in by)  # org-restricted queue
    trusted, _ = run_exposure(lake, load_estate(lake), trusted_accounts=[B])
    assert (CROSS_ACCOUNT, f"arn:aws:iam::{A}:role/partner") not in {
        (f.check_id, f.resource.uid) for f in trusted
    }


MANAGEMENT = "999988887777"
SCP_ARN = f"arn:aws:organizations::{MANAGEMENT}:policy/o-1/service_control_policy"


def _organization(lake: Lake, *, member_parent: str | None = "ou-ab12-apps") -> None:
    """An Organization: root > OU apps > account A; an SCP on the OU denies all of S3."""
    from opencwpp.collect.aws import organizations as org

    full = {"Version": "2012-10-17", "Statement": [allow("*")]}
    no_s3 = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}],
    }
    base = {"request_account_id": MANAGEMENT}
    policies = [
        {
            "account_id": MANAGEMENT,
            "id": pid,
            "arn": f"{SCP_ARN}/{pid}",
            "type": "SERVICE_CONTROL_POLICY",
            "name": pid,
            "content": body,
        }
        for pid, body in (("p-full", full), ("p-nos3", no_s3))
    ]
    targets = [
        {
            "account_id": MANAGEMENT,
            "policy_id": pid,
            "policy_arn": f"{SCP_ARN}/{pid}",
            "target_id": target,
        }
        for pid, target in (
            ("p-full", "r-ab12"),
            ("p-full", "ou-ab12-apps"),
            ("p-full", A),
            ("p-full", MANAGEMENT),
            ("p-nos3", "ou-ab12-apps"),
            ("p-nos3", MANAGEMENT),
        )
    ]
    parents = [{**base, "id": MANAGEMENT, "parent_id": "r-ab12", "type": "ROOT"}]
    if member_parent:
        parents.append({**base, "id": A, "parent_id": member_parent, "type": "ORGANIZATIONAL_UNIT"})
    lake.replace_scope(
        Scope(MANAGEMENT, None),
        {
            org.ORGANIZATIONS: [
                {
                    **base,
                    "arn": "arn:aws:organizations::o-1",
                    "id": "o-1",
                    "master_account_id": MANAGEMENT,
                }
            ],
            org.ACCOUNTS: [
                {
                    **base,
                    "arn": f"arn:aws:organizations::{MANAGEMENT}:account/o-1/{a}",
                    "id": a,
                    "status": "ACTIVE",
                }
                for a in (A, MANAGEMENT)
            ],
            org.ACCOUNT_PARENTS: parents,
            org.OU_PARENTS: [{**base, "id": "ou-ab12-apps", "parent_id": "r-ab12", "type": "ROOT"}],
            org.POLICIES: policies,
            org.POLICY_TARGETS: targets,
        },
    )


def test_collected_scps_apply_to_member_accounts_only(lake: Lake) -> None:
    _fill(lake)
    _organization(lake)
    estate = load_estate(lake)
    assert estate.scp_for(MANAGEMENT) is None  # SCPs never restrict the management account
    levels = estate.scp_for(A)
    assert levels is not None and [len(level) for level in levels] == [1, 2, 1]
    rows = who_can(estate, "s3:GetObject", "arn:aws:s3:::vault/*")
    decisions = {r.principal_arn: r.decision for r in rows}
    assert decisions[f"arn:aws:iam::{A}:user/reader"] == "ExplicitDeny"
    assert not [r for r in rows if r.decision == "Allow"]
    # Outside S3 the SCPs allow what the identity policies allow.
    passers = who_can(estate, "iam:PassRole", f"arn:aws:iam::{A}:role/box")
    assert f"arn:aws:iam::{A}:user/dev" in {
        r.principal_arn for r in passers if r.decision == "Allow"
    }


def test_an_incomplete_ou_path_applies_no_scps_and_says_so(lake: Lake) -> None:
    _fill(lake)
    _organization(lake, member_parent=None)
    estate = load_estate(lake)
    assert estate.scp_for(A) is None
    assert any(A in w and "OU path is incomplete" in w for w in estate.warnings)
    rows = who_can(estate, "s3:GetObject", "arn:aws:s3:::vault/*")
    assert f"arn:aws:iam::{A}:user/reader" in {
        r.principal_arn for r in rows if r.decision == "Allow"
    }


def test_instances_carry_the_role_their_instance_profile_holds(lake: Lake) -> None:
    from opencwpp.collect.aws.ec2_instances import INSTANCES
    from opencwpp.collect.aws.iam_extras import INSTANCE_PROFILES

    _fill(lake)
    profile = f"arn:aws:iam::{A}:instance-profile/web-profile"
    instance = f"arn:aws:ec2:eu-west-1:{A}:instance/i-1"
    lost = f"arn:aws:ec2:eu-west-1:{A}:instance/i-2"
    instances = [
        {
            "arn": instance,
            "account_id": A,
            "region": "eu-west-1",
            "iam_instance_profile": {"Arn": profile},
        },
        {
            "arn": lost,
            "account_id": A,
            "region": "eu-west-1",
            "iam_instance_profile": {"Arn": f"{profile}-gone"},
        },
    ]
    lake.replace_scope(Scope(A, "eu-west-1"), {INSTANCES: instances})
    estate = load_estate(lake)
    assert not [c for c in estate.carriers if c.arn == instance]  # no profiles: no role named so
    holds = [{"Arn": f"arn:aws:iam::{A}:role/box", "RoleName": "box"}]
    lake.replace_scope(
        Scope(A, None),
        {INSTANCE_PROFILES: [{"arn": profile, "account_id": A, "id": "AIP1", "roles": holds}]},
    )
    estate = load_estate(lake)
    (carrier,) = [c for c in estate.carriers if c.arn == instance]
    assert carrier.role_arn == f"arn:aws:iam::{A}:role/box"
    assert carrier.service == "ec2.amazonaws.com" and "web-profile" in carrier.note
    assert any(lost in w and "not collected" in w for w in estate.warnings)


def test_snapshots_and_amis_shared_publicly_or_to_foreign_accounts(lake: Lake) -> None:
    from opencwpp.collect.aws._shares import RESOURCE_SHARES

    region = "eu-west-1"
    snap = f"arn:aws:ec2:{region}:{A}:snapshot/snap-1"
    image = f"arn:aws:ec2:{region}:{A}:image/ami-1"
    private = f"arn:aws:ec2:{region}:{A}:snapshot/snap-2"
    db = f"arn:aws:rds:{region}:{A}:snapshot:nightly"

    def share(table: str, arn: str, attribute: str, kind: str, grantee: str) -> dict[str, Any]:
        return {
            "account_id": A,
            "region": region,
            "source_table": table,
            "resource_arn": arn,
            "attribute": attribute,
            "grantee_type": kind,
            "grantee": grantee,
        }

    volume = "createVolumePermission"
    rows = [
        share("aws_ec2_ebs_snapshots", snap, volume, "group", "all"),
        share("aws_ec2_ebs_snapshots", private, volume, "account", A),
        share("aws_ec2_images", image, "launchPermission", "account", B),
        share("aws_ec2_images", image, "launchPermission", "organization", "arn:aws:o-1"),
        share("aws_rds_db_snapshots", db, "restore", "account", "777777777777"),
    ]
    lake.replace_scope(Scope(A, region), {RESOURCE_SHARES: rows})
    found, _ = run_exposure(lake, load_estate(lake), trusted_accounts=["777777777777"])
    by = {(f.check_id, f.resource.uid): f for f in found}
    assert set(by) == {(PUBLIC, snap), (CROSS_ACCOUNT, image)}
    assert by[(PUBLIC, snap)].severity.value == "high"
    assert "ec2:CreateVolume" in by[(PUBLIC, snap)].status_reason
    assert B in by[(CROSS_ACCOUNT, image)].title


def test_accounts_of_the_collected_organization_are_not_foreign(lake: Lake) -> None:
    from opencwpp.collect.aws import organizations as org

    _fill(lake)
    partner = (CROSS_ACCOUNT, f"arn:aws:iam::{A}:role/partner")
    before, _ = run_exposure(lake, load_estate(lake))
    assert partner in {(f.check_id, f.resource.uid) for f in before}
    members = [
        {"request_account_id": A, "arn": f"arn:aws:organizations::{A}:account/o-1/{a}", "id": a}
        for a in (A, B)
    ]
    lake.replace_scope(Scope(A, None), {org.ACCOUNTS: members})
    after, _ = run_exposure(lake, load_estate(lake))
    assert partner not in {(f.check_id, f.resource.uid) for f in after}
    assert (PUBLIC, "arn:aws:s3:::data") in {(f.check_id, f.resource.uid) for f in after}
