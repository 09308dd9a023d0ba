"""The set-based assessment gives the findings the Python path gives, run after run.

The Python path is the reference: `run_check` per check, `Mutelist.apply`, `save_findings`.
The SQL path is `assess`. Both judge the same estate on two lakes of the same backend over three
runs (resources fixed, broken, deleted, added back; scopes not assessed; mutes added), and every
stored finding, lifecycle, timestamp (as the run that set it) and history row must be equal.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from opencwpp.assess import RunFindings, assess, failures_at_or_above
from opencwpp.catalog import lake_tables
from opencwpp.checks import Check, builtin_checks, load_check, run_check
from opencwpp.checks.views import builtin_views, names_with_views
from opencwpp.core.errors import CheckDefinitionError
from opencwpp.core.models import Severity
from opencwpp.findings import Mutelist, MuteRule, finish_run, save_findings, start_run
from opencwpp.findings.store import _row
from opencwpp.lake import Lake, Scope
from tests.conftest import PG_URL

A, B = "111111111111", "222222222222"
PUBLIC = "http://acs.amazonaws.com/groups/global/AllUsers"
FILLED = (
    "aws_s3_buckets",
    "aws_s3_bucket_grants",
    "aws_ec2_security_groups",
    "cwpp_aws_ec2_security_group_rules",
    "aws_iam_users",
    "aws_iam_user_access_keys",
)
# Hostile and glob-like names: the mutelist's LIKE and regex translations must not trip on them.
NAMES = ["web-1", "b_1%", "logs\\x", "<script>x</script>", "data[1]", "ünï", "plain", "tmp?"]

FAR = date(2999, 12, 31)  # mute rules must expire


def _estate(version: int) -> dict[str, list[dict[str, Any]]]:
    now = datetime.now(UTC)
    rows: dict[str, list[dict[str, Any]]] = {t: [] for t in FILLED}
    present = set(range(8)) | ({8} if version >= 2 else set())
    present -= {2, 7} if version == 2 else set()
    public = {0: version != 2, 1: True, 2: True, 3: version >= 2, 8: True}
    for i in sorted(present):
        name = NAMES[i] if i < len(NAMES) else f"new-{i}"
        arn = f"arn:aws:s3:::bucket-{i}"
        tags = {"team": f"t{i % 3}", "env": "prod" if i % 2 else "dev", "odd/key~1": name}
        rows["aws_s3_buckets"].append(
            {"account_id": A, "region": "us-east-1", "arn": arn, "name": name, "tags": tags}
        )
        grantee = PUBLIC if public.get(i) else "abc"
        rows["aws_s3_bucket_grants"].append(
            {
                "account_id": A,
                "bucket_arn": arn,
                "grantee_type": "Group" if public.get(i) else "CanonicalUser",
                "grantee_id": grantee,
                "permission": "READ",
            }
        )
    for i in range(6):
        arn = f"arn:aws:ec2:eu-west-1:{B}:security-group/sg-{i}"
        open_port = {
            0: 22 if version == 1 else None,
            1: 22,
            2: 3389,
            3: 22 if version >= 2 else None,
        }
        rows["aws_ec2_security_groups"].append(
            {
                "account_id": B,
                "region": "eu-west-1",
                "arn": arn,
                "group_id": f"sg-{i}",
                "group_name": "default" if i == 5 else f"g{i}",
                "tags": {"team": "net", "tier": f"x{i}"},
            }
        )
        port = open_port.get(i)
        rows["cwpp_aws_ec2_security_group_rules"].append(
            {
                "account_id": B,
                "region": "eu-west-1",
                "group_arn": arn,
                "group_id": f"sg-{i}",
                "direction": "ingress",
                "ip_protocol": "tcp",
                "from_port": port or 443,
                "to_port": port or 443,
                "cidr_ipv4": "0.0.0.0/0" if port else "10.0.0.0/8",
            }
        )
    for i in range(4):
        user = f"arn:aws:iam::{A}:user/u{i}"
        rows["aws_iam_users"].append(
            {"account_id": A, "arn": user, "user_name": f"u{i}", "create_date": now}
        )
        age = 200 if (i == 1 and version < 3) or i == 2 else 5
        rows["aws_iam_user_access_keys"].append(
            {
                "account_id": A,
                "user_arn": user,
                "access_key_id": f"AKIA{i:016d}",
                "status": "Active",
                "create_date": now - timedelta(days=age),
            }
        )
    return rows


def _load(lake: Lake, version: int) -> None:
    catalog = lake_tables()
    # The other tables the checks over these read exist, empty: more checks get to run.
    views = {v.name: v.tables for v in builtin_views()}
    related = {
        name
        for check in builtin_checks()
        if set(FILLED) & {t for n in check.meta.tables for t in views.get(n, {n})}
        for t in check.meta.tables
        for name in views.get(t, {t})
    }
    lake.ensure_tables([catalog[t] for t in sorted(related) if t in catalog])
    data = _estate(version)
    for account in (A, B):
        mine = {
            catalog[t]: [dict(r) for r in rows if r["account_id"] == account]
            for t, rows in data.items()
        }
        lake.replace_scope(Scope(account), mine)
    scopes = catalog["cwpp_sync_scopes"]
    lake.ensure_tables([scopes])
    lake.execute("DELETE FROM cwpp_sync_scopes")
    marks = [
        ("aws_s3_buckets", B, "", "not_assessed", "AccessDenied: s3:ListAllMyBuckets"),
        ("aws_s3_bucket_grants", B, "", "not_assessed", "AccessDenied: s3:GetBucketAcl"),
        ("aws_ec2_security_groups", A, "us-east-1", "ok", None),
    ]
    if version == 1:
        marks.append(("aws_iam_users", B, "", "not_assessed", None))
    lake.insert_rows(
        scopes,
        [
            {"table_name": t, "account_id": a, "region": r, "status": s, "reason": why}
            for t, a, r, s, why in marks
        ],
    )


def _mutelist(version: int) -> Mutelist:
    rules = [
        MuteRule(
            check="s3_bucket_public_*", resource="b_1%", reason="approved", owner="ann", expires=FAR
        ),
        MuteRule(
            check="*",
            resource="*",
            tags={"odd/key~1": "data[[]1]"},
            reason="by tag",
            owner="bo",
            expires=FAR,
        ),
        MuteRule(
            check="*", resource="*", reason="expired rule", owner="cy", expires=date(2020, 1, 1)
        ),
    ]
    if version == 3:
        rules.append(
            MuteRule(check="ec2_*", resource="g?", account=B, reason="lab", owner="di", expires=FAR)
        )
    return Mutelist(tuple(rules))


def _checks(lake: Lake, tmp_path: Path) -> list[Check]:
    present = names_with_views(lake)
    registry = list(builtin_checks())
    runnable = [c for c in registry if set(c.meta.tables) <= present]
    missing = [c for c in registry if not set(c.meta.tables) <= present][:5]
    folder = tmp_path / "demo_reference_needed"
    folder.mkdir(exist_ok=True)
    (folder / "metadata.yaml").write_text(
        "id: demo_reference_needed\ntitle: Needs reference data\nservice: s3\n"
        "resource_type: AwsS3Bucket\npillar: access-control\nseverity: low\n"
        "tables: [aws_s3_buckets, aws_iam_users]\nreference_tables: [aws_iam_users]\n"
        "description: A check that needs reference data.\nrisk: Demo risk text.\n"
        "remediation: Demo remediation.\n"
    )
    (folder / "check.sql").write_text(
        "SELECT arn AS resource_uid, name AS resource_name, account_id, region, "
        "'PASS' AS status, '' AS detail FROM aws_s3_buckets"
    )
    assert len(runnable) >= 8
    return [*runnable, *missing, load_check(folder)]


def _python_run(lake: Lake, checks: list[Check], mutelist: Mutelist) -> dict[str, int]:
    run_id = start_run(lake, "assess")
    present = names_with_views(lake)
    findings = [f for c in checks for f in run_check(lake, c, present)]
    findings = mutelist.apply(findings)
    counts = save_findings(lake, run_id, findings, [c.id for c in checks])
    finish_run(lake, run_id, "ok", {})
    return counts


def _snapshot(lake: Lake) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Stored findings and history, timestamps replaced by the index of the run that set them."""
    history = lake.query(
        "SELECT h.run_id, h.finding_id, h.check_id, h.status, h.lifecycle, h.severity, "
        "h.seen_at FROM cwpp_finding_history AS h"
    )
    seen = sorted({(r["seen_at"], r["run_id"]) for r in history})
    run_of = {at: index for index, (at, _) in enumerate(seen)}
    index_of = {run: index for index, (_, run) in enumerate(seen)}

    def load(value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    stored = sorted(
        (
            r["finding_id"], r["check_id"], r["title"], r["pillar"], r["severity"],
            r["severity_rank"], r["status"], r["status_reason"], r["lifecycle"],
            r["resource_uid"], r["resource_type"], r["account_id"], r["region"],
            r["resource_name"], json.dumps(load(r["resource_tags"]), sort_keys=True),
            json.dumps(load(r["evidence"]), sort_keys=True), r["remediation"],
            json.dumps(load(r["compliance"]), sort_keys=True), json.dumps(load(r["mitre_attack"])),
            run_of.get(r["first_seen"]), run_of.get(r["last_seen"]),
            run_of.get(r["resolved_at"]) if r["resolved_at"] else None,
            index_of.get(r["last_run_id"]),
        )
        for r in lake.query("SELECT * FROM cwpp_findings")
    )  # fmt: skip
    rows = sorted(
        (index_of[r["run_id"]], r["finding_id"], r["check_id"], r["status"], r["lifecycle"],
         r["severity"])
        for r in history
    )  # fmt: skip
    return stored, rows


@pytest.fixture(params=["duckdb", "postgres"])
def lake_pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Lake, Lake]]:
    """Two empty lakes on one backend: the reference (Python path) and the SQL path."""
    if request.param == "duckdb":
        urls = [f"duckdb://{tmp_path / 'py.duckdb'}", f"duckdb://{tmp_path / 'sql.duckdb'}"]
        schemas: list[str] = []
    else:
        base = request.getfixturevalue("postgres_url")
        schemas = [f"cwpp_test_{uuid.uuid4().hex[:12]}" for _ in range(2)]
        urls = [f"{base}?schema={s}" for s in schemas]
    with Lake.open(urls[0]) as py, Lake.open(urls[1]) as sql:
        yield py, sql
    if schemas:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            for schema in schemas:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_sql_path_equals_python_path_over_three_runs(
    lake_pair: tuple[Lake, Lake], tmp_path: Path
) -> None:
    py, sql = lake_pair
    _load(py, 1)
    _load(sql, 1)
    checks = _checks(sql, tmp_path)
    stored: list[tuple[Any, ...]] = []
    for version in (1, 2, 3):
        if version > 1:
            _load(py, version)
            _load(sql, version)
        mutelist = _mutelist(version)
        if version == 3:  # an upgraded check: new title, severity and remediation
            at = next(i for i, c in enumerate(checks) if c.id == "ec2_security_group_open_ssh")
            meta = checks[at].meta.model_copy(
                update={"title": "Renamed check", "severity": Severity.LOW, "remediation": "New."}
            )
            checks[at] = replace(checks[at], meta=meta)
        expected = _python_run(py, checks, mutelist)
        result = assess(sql, checks, mutelist)
        assert result.lifecycle_counts == expected, f"run {version}"
        assert _snapshot(sql) == _snapshot(py), f"run {version}"
        stored += _snapshot(sql)[0]
        produced = {(f.id, f.status, f.status_reason) for f in result.findings}
        reference = {
            (f.id, f.status, f.status_reason)
            for f in mutelist.apply(
                f for c in checks for f in run_check(py, c, names_with_views(py))
            )
        }
        assert produced == reference and len(result.findings) == len(reference)
    statuses = {(row[6], row[8]) for row in stored}
    # The runs exercised every lifecycle and status the comparison is about.
    assert {("FAIL", "NEW"), ("FAIL", "OPEN"), ("PASS", "RESOLVED"), ("PASS", None)} <= statuses
    assert {s for s, _ in statuses} >= {"MUTED", "NOT_ASSESSED"}
    assert any(row[7] == "the resource is no longer present" for row in stored)
    assert any(row[2] == "Renamed check" for row in stored)


def test_gone_findings_keep_the_metadata_they_were_judged_with(
    lake_pair: tuple[Lake, Lake], tmp_path: Path
) -> None:
    # Run 2 renames a check and deletes resources: the findings judged now take the new
    # title, the gone ones keep the old (`cwpp_check_meta` holds the check's current one).
    py, sql = lake_pair
    _load(py, 1)
    _load(sql, 1)
    checks = _checks(sql, tmp_path)
    at = next(i for i, c in enumerate(checks) if c.id == "s3_bucket_public_acl")
    old_title = checks[at].meta.title
    for version in (1, 2):
        if version == 2:
            _load(py, version)
            _load(sql, version)
            meta = checks[at].meta.model_copy(update={"title": "Renamed", "remediation": "New."})
            checks[at] = replace(checks[at], meta=meta)
        mutelist = _mutelist(version)
        assert assess(sql, checks, mutelist).lifecycle_counts == _python_run(py, checks, mutelist)
        assert _snapshot(sql) == _snapshot(py), f"run {version}"
    titles = {
        (r["title"], r["status_reason"] == "the resource is no longer present")
        for r in sql.query(
            "SELECT title, status_reason FROM cwpp_findings WHERE check_id = 's3_bucket_public_acl'"
        )
    }
    # (A gone finding that passed stays as it was, with the old title too.)
    assert {("Renamed", False), (old_title, True)} <= titles
    assert ("Renamed", True) not in titles


def test_gating_counts_survive_a_closed_lake(tmp_path: Path) -> None:
    lake = Lake.open(f"duckdb://{tmp_path / 'lake.duckdb'}")
    _load(lake, 1)
    result = assess(lake, _checks(lake, tmp_path))
    findings = result.findings
    assert isinstance(findings, RunFindings)
    failing = lake.query(
        "SELECT count(*) AS n FROM cwpp_findings WHERE status = 'FAIL' AND severity_rank >= 2"
    )[0]["n"]
    lake.close()  # as `cwpp scan` does before it gates on the result
    assert failing > 0
    assert failures_at_or_above(findings, Severity.MEDIUM) == failing
    assert len(findings) == sum(result.by_status.values())


def test_progress_counts_every_check_then_storing(lake: Lake, tmp_path: Path) -> None:
    # A bar that moves with each check, whether its SQL ran, it could not run, or it ran in
    # Python, and reaches its end only when the findings are stored.
    _load(lake, 1)
    checks = _checks(lake, tmp_path)
    seen: list[tuple[str, int, int]] = []
    assess(lake, checks, progress=lambda name, done, total: seen.append((name, done, total)))
    assert [done for _, done, _ in seen] == list(range(len(checks) + 1))
    assert {total for _, _, total in seen} == {len(checks) + 1}
    assert sorted(name for name, _, _ in seen[:-1]) == sorted(c.id for c in checks)
    assert seen[-1][0] == "storing findings"


def test_duplicate_rows_keep_the_failing_one_and_bad_status_names_the_check(
    lake: Lake, tmp_path: Path
) -> None:
    _load(lake, 1)
    folder = tmp_path / "demo_twice"
    folder.mkdir()
    meta = (
        "id: demo_twice\ntitle: Returns buckets twice\nservice: s3\nresource_type: AwsS3Bucket\n"
        "pillar: access-control\nseverity: high\ntables: [aws_s3_buckets]\n"
        "description: Demo duplicate rows.\nrisk: Demo risk text.\nremediation: Demo fix text.\n"
    )
    (folder / "metadata.yaml").write_text(meta)
    twice = (
        "SELECT arn AS resource_uid, name AS resource_name, account_id, region, "
        "'{}' AS status, 'x' AS detail FROM aws_s3_buckets"
    )
    (folder / "check.sql").write_text(
        f"{twice.format('PASS')} UNION ALL {twice.format('fail')} UNION ALL {twice.format('PASS')}"
    )
    result = assess(lake, [load_check(folder)])
    assert result.by_status == {"FAIL": 8, "NOT_ASSESSED": 1}  # and account B: not assessed
    assert lake.query("SELECT count(*) AS n FROM cwpp_findings")[0]["n"] == 9
    (folder / "check.sql").write_text(twice.format("MAYBE"))
    with pytest.raises(CheckDefinitionError, match="demo_twice: status must be PASS or FAIL"):
        assess(lake, [load_check(folder)])
    (folder / "check.sql").write_text("SELECT arn AS resource_uid FROM aws_s3_buckets")
    with pytest.raises(CheckDefinitionError, match="demo_twice: its SQL must return the column"):
        assess(lake, [load_check(folder)])


@pytest.fixture(params=["duckdb", "postgres"])
def old_lake_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty lake on each backend, for the old layout to be written into."""
    if request.param == "duckdb":
        yield f"duckdb://{tmp_path / 'old.duckdb'}"
        return
    schema = f"cwpp_test_{uuid.uuid4().hex[:12]}"
    yield f"{request.getfixturevalue('postgres_url')}?schema={schema}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_lakes_made_before_keep_working(old_lake_url: str, tmp_path: Path) -> None:
    """A lake from older opencwpp: primary keys, and `cwpp_findings` a table of its own.

    Its findings (every field on every row) become `cwpp_finding_state` as they are, read the
    same through the view, and take their check's metadata once judged again.
    """
    from opencwpp.findings.tables import FINDINGS, HISTORY, RUNS

    with Lake.open(old_lake_url) as lake:
        lake.ensure_tables([RUNS, FINDINGS, HISTORY])  # the old layout
        _load(lake, 1)
        checks = _checks(lake, tmp_path)
        kept = [c for c in checks if c.id == "ec2_security_group_open_ssh"]
        findings = run_check(lake, kept[0], names_with_views(lake))
        old = [replace(f, title="Old title") for f in findings]
        with lake.transaction():
            lake.insert_rows(FINDINGS, [_old_row(f) for f in old])
        assert {r["title"] for r in lake.query("SELECT title FROM cwpp_findings")} == {"Old title"}
        first = assess(lake, checks)
        assert "cwpp_finding_state" in lake.table_names()
        titles = {r["title"] for r in lake.query("SELECT DISTINCT title FROM cwpp_findings")}
        assert "Old title" not in titles and kept[0].meta.title in titles
        # The old rows were found again (not new), and no field came back NULL.
        assert first.lifecycle_counts["OPEN"] > 0
        nulls = lake.query(
            "SELECT count(*) AS n FROM cwpp_findings WHERE title IS NULL OR severity IS NULL "
            "OR remediation IS NULL OR compliance IS NULL OR severity_rank IS NULL"
        )
        assert nulls[0]["n"] == 0
        _load(lake, 2)
        second = assess(lake, checks)
        assert first.lifecycle_counts["NEW"] > 0 and second.lifecycle_counts["OPEN"] > 0
        stored = lake.query(
            "SELECT count(DISTINCT finding_id) AS d, count(*) AS n FROM cwpp_findings"
        )
        assert stored[0]["d"] == stored[0]["n"] > 0


def _old_row(f: Any) -> dict[str, Any]:
    now = datetime.now(UTC).replace(tzinfo=None)
    return _row(f, "NEW" if f.status.value == "FAIL" else None, now, now, "old", None)
