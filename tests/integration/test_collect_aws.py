"""The AWS collector over HTTP against moto: estate -> sync -> lake (DuckDB and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from botocore.exceptions import ClientError
from psycopg import sql as pgsql

from opencwpp.collect.aws.session import AwsContext
from opencwpp.collect.base import load_resources
from opencwpp.collect.sync import SyncFailed, SyncReport, sync_aws
from opencwpp.demo.estate import EstateManifest
from opencwpp.lake.lake import Lake

REGION = "us-east-1"
UNSUPPORTED_BY_MOTO = {"accessanalyzer.analyzers"}
PG_BASE = "postgresql://postgres@127.0.0.1:5432/test"


def _sync(lake: Lake, endpoint: str, **kwargs: Any) -> SyncReport:
    return sync_aws(
        lake, AwsContext.create(endpoint_url=endpoint, region=REGION), [REGION], **kwargs
    )


@pytest.fixture(scope="module")
def duck(
    tmp_path_factory: pytest.TempPathFactory, moto_endpoint: str, demo_estate: EstateManifest
) -> Iterator[tuple[Lake, SyncReport]]:
    path = tmp_path_factory.mktemp("lake") / "lake.duckdb"
    with Lake.open(f"duckdb:///{path}") as lake:
        yield lake, _sync(lake, moto_endpoint)


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    schema = f"cwpp_collect_{uuid.uuid4().hex[:12]}"
    try:
        conn = psycopg.connect(PG_BASE, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as err:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is required in CI: {err}")
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432/test is not reachable: {err}")
    try:
        yield f"{PG_BASE}?schema={schema}"
    finally:
        conn.execute(pgsql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(pgsql.Identifier(schema)))
        conn.close()


def _one(lake: Lake, sql: str, *params: Any) -> list[dict[str, Any]]:
    return lake.query(sql, params)


def _assert_user_facing(lake: Lake, report: SyncReport, m: EstateManifest) -> None:
    # moto has no IAM Access Analyzer: the one scope the emulator cannot answer.
    assert {o.resource for o in report.not_assessed} <= UNSUPPORTED_BY_MOTO, report.not_assessed
    # A public ACL grant on the public-read bucket.
    grants = _one(
        lake,
        "SELECT grantee_type, permission FROM aws_s3_bucket_grants WHERE bucket_arn = ? "
        "AND grantee_id = ?",
        m.buckets["public_acl"],
        "http://acs.amazonaws.com/groups/global/AllUsers",
    )
    assert grants == [{"grantee_type": "Group", "permission": "READ"}]
    # The public bucket policy, split into statement values with principal '*'.
    principals = _one(
        lake,
        "SELECT v.value FROM cwpp_aws_policy_statement_values v JOIN cwpp_aws_policy_statements s "
        "ON s._cq_id = v.statement_id "
        "WHERE v.source_table = ? AND v.source_arn = ? AND v.element = ? AND s.effect = ?",
        "aws_s3_bucket_policies",
        m.buckets["public_policy"],
        "Principal",
        "Allow",
    )
    assert principals == [{"value": "*"}]
    buckets = {
        r["arn"]: r for r in _one(lake, "SELECT arn, region FROM aws_s3_buckets WHERE 1 = ?", 1)
    }
    assert set(m.buckets.values()) <= set(buckets)
    assert all(b["region"] == REGION for b in buckets.values())
    enc = _one(
        lake,
        "SELECT bucket_arn FROM aws_s3_bucket_encryption_rules WHERE account_id = ?",
        m.account_id,
    )
    assert {r["bucket_arn"] for r in enc} == {m.buckets["secure"]}
    account = _one(
        lake, "SELECT config_exists FROM aws_s3_accounts WHERE account_id = ?", m.account_id
    )
    assert account == [{"config_exists": False}]
    # Access keys and MFA devices.
    keys = _one(
        lake,
        "SELECT access_key_id, status FROM aws_iam_user_access_keys WHERE user_arn = ?",
        m.users["two_active_keys"],
    )
    assert {k["access_key_id"] for k in keys} == set(m.access_key_ids)
    assert {k["status"] for k in keys} == {"Active"}
    mfa = _one(
        lake,
        "SELECT serial_number FROM aws_iam_mfa_devices WHERE user_name = ?",
        "bob",
    )
    assert [r["serial_number"] for r in mfa] == m.mfa_serials
    admin = _one(
        lake,
        "SELECT policy_arn FROM aws_iam_user_attached_policies WHERE user_arn = ?",
        m.users["direct_admin"],
    )
    assert admin == [{"policy_arn": m.policies["admin"]}]
    inline = _one(
        lake,
        "SELECT value FROM cwpp_aws_policy_statement_values WHERE source_table = ? "
        "AND source_arn = ? AND element = ?",
        "aws_iam_group_policies",
        m.groups["wildcard_inline"],
        "Action",
    )
    assert inline == [{"value": "*"}]
    pwd = _one(
        lake,
        "SELECT policy_exists, minimum_password_length FROM aws_iam_password_policies "
        "WHERE account_id = ?",
        m.account_id,
    )
    assert pwd == [{"policy_exists": True, "minimum_password_length": 6}]
    # The SG rule row: port 22 open to the world.
    ssh = _one(
        lake,
        "SELECT direction, ip_protocol, from_port, to_port FROM cwpp_aws_ec2_security_group_rules "
        "WHERE group_id = ? AND cidr_ipv4 = ?",
        m.security_groups["ssh_open"],
        "0.0.0.0/0",
    )
    assert {"direction": "ingress", "ip_protocol": "tcp", "from_port": 22, "to_port": 22} in ssh
    all_ports = _one(
        lake,
        "SELECT to_port FROM cwpp_aws_ec2_security_group_rules "
        "WHERE group_id = ? AND direction = ?",
        m.security_groups["all_open"],
        "ingress",
    )
    assert all_ports == [{"to_port": None}]
    # Credential report rows, booleans parsed.
    report_rows = {
        r["user"]: r
        for r in _one(
            lake,
            'SELECT "user", mfa_active, access_key1_active, access_key2_active '
            "FROM aws_iam_credential_reports WHERE arn LIKE ?",
            f"arn:aws:iam::{m.account_id}:%",
        )
    }
    assert report_rows["bob"]["mfa_active"] is True
    assert report_rows["alice"]["mfa_active"] is False
    assert report_rows["carol"]["access_key1_active"] is True
    assert report_rows["carol"]["access_key2_active"] is True
    # The attacker-style tag value is stored verbatim (escaping is the reporters' job).
    tags = _one(lake, "SELECT tags FROM aws_iam_users WHERE arn = ?", m.users["console_no_mfa"])
    assert m.attacker_string in str(tags[0]["tags"])
    # Every scope recorded as ok.
    scopes = _one(
        lake,
        "SELECT table_name, region, status FROM cwpp_sync_scopes WHERE account_id = ?",
        m.account_id,
    )
    assert scopes and {
        s["status"] for s in scopes if not s["table_name"].startswith("aws_accessanalyzer_")
    } == {"ok"}
    owned = {t.name for r in load_resources() for t in r.own_tables}
    assert {s["table_name"] for s in scopes} == owned
    assert {s["region"] for s in scopes if s["table_name"] == "aws_ec2_security_groups"} == {REGION}
    assert {s["region"] for s in scopes if s["table_name"] == "aws_s3_buckets"} == {""}


def test_sync_into_duckdb(duck: tuple[Lake, SyncReport], demo_estate: EstateManifest) -> None:
    lake, report = duck
    _assert_user_facing(lake, report, demo_estate)


def test_sync_into_postgres(pg_url: str, moto_endpoint: str, demo_estate: EstateManifest) -> None:
    with Lake.open(pg_url) as lake:
        _assert_user_facing(lake, _sync(lake, moto_endpoint), demo_estate)


def _snapshot(lake: Lake) -> dict[str, list[str]]:
    out = {}
    for name in sorted(lake.table_names()):
        if name.startswith(("aws_", "cwpp_aws_")):
            rows = lake.query(f'SELECT _cq_id FROM "{name}" WHERE 1 = ?', [1])
            out[name] = sorted(str(r["_cq_id"]) for r in rows)
    return out


def test_resync_keeps_ids_and_does_not_duplicate(
    duck: tuple[Lake, SyncReport], moto_endpoint: str
) -> None:
    lake, _ = duck
    before = _snapshot(lake)
    progress: list[tuple[str, str | None, int, int]] = []
    report = _sync(lake, moto_endpoint, progress=lambda *a: progress.append(a))
    assert _snapshot(lake) == before
    assert all(len(ids) == len(set(ids)) for ids in before.values())
    assert progress[-1][2:] == (len(report.outcomes), len(report.outcomes))


def _raising(code: str, status: int) -> Any:
    def fetch(ctx: Any, region: str | None) -> Any:
        raise ClientError(
            {
                "Error": {"Code": code, "Message": "simulated"},
                "ResponseMetadata": {"HTTPStatusCode": status},
            },
            "GetAccountPasswordPolicy",
        )

    return fetch


def test_access_denied_scope_is_not_assessed_and_sync_goes_on(
    tmp_path: Path, moto_endpoint: str, demo_estate: EstateManifest
) -> None:
    resources = list(load_resources())
    target = next(r for r in resources if r.name == "iam.password_policy")
    denied = dataclasses.replace(target, fetch=_raising("AccessDenied", 403))
    selected = [denied if r is target else r for r in resources]
    with Lake.open(f"duckdb:///{tmp_path}/lake.duckdb") as lake:
        report = _sync(lake, moto_endpoint, resources=selected)
        assert [
            o.resource for o in report.not_assessed if o.resource not in UNSUPPORTED_BY_MOTO
        ] == ["iam.password_policy"]
        scopes = {
            r["table_name"]: r
            for r in lake.query(
                "SELECT table_name, status, reason FROM cwpp_sync_scopes WHERE 1 = ?", [1]
            )
        }
        assert scopes["aws_iam_password_policies"]["status"] == "not_assessed"
        assert "AccessDenied" in scopes["aws_iam_password_policies"]["reason"]
        assert scopes["aws_iam_users"]["status"] == "ok"
        assert lake.query("SELECT count(*) AS n FROM aws_iam_users WHERE 1 = ?", [1])[0]["n"] >= 4


def test_unavailable_service_is_not_assessed_and_other_errors_raise(
    tmp_path: Path, moto_endpoint: str, demo_estate: EstateManifest
) -> None:
    target = load_resources().get("iam.password_policy")
    with Lake.open(f"duckdb:///{tmp_path}/lake.duckdb") as lake:
        down = dataclasses.replace(target, fetch=_raising("InternalError", 500))
        report = _sync(lake, moto_endpoint, resources=[down])
        assert "service not available" in report.not_assessed[0].reason
        broken = dataclasses.replace(target, fetch=_raising("ValidationError", 400))
        with pytest.raises(SyncFailed, match="ValidationError"):
            _sync(lake, moto_endpoint, resources=[broken])
