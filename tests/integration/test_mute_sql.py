"""The mutelist in SQL matches exactly as `Mutelist.apply` (fnmatchcase globs, tags, first rule)."""

from __future__ import annotations

from datetime import date
from fnmatch import fnmatchcase

import pytest

from opencwpp.core.models import Finding, Pillar, ResourceRef, Severity, Status, finding_id
from opencwpp.findings import Mutelist, MuteRule
from opencwpp.findings.mute_sql import glob_sql
from opencwpp.findings.staging import (
    FINDINGS_STAGE,
    STAGED,
    CheckRow,
    Stage,
    finding_id_sql,
)
from opencwpp.lake import Lake, table

STRINGS = [
    "", "a", "abc", "ABC", "a.c", "a%c", "a_c", "a\\c", "a[b]c", "a]c", "a-c", "a!c", "a^c",
    "x\ny", "\u00fcber", "arn:aws:s3:::web-1", "web-10", "[x]", "*", "?", "a&&b", "a||b", "a~~b",
]  # fmt: skip
PATTERNS = [
    "*", "**", "", "a*", "*c", "a?c", "a.c", "a%c", "a_c", "a\\c", "a\\*", "[abc]*", "[!abc]*",
    "[a-c]bc", "[z-a]*", "[]]*", "*[!]]*", "a[", "a[b]c", "a[[]b]c", "[!]", "x?y", "*-1*",
    "?ber", "[\u00fc]ber", "[^a]*", "a[-]c", "a[!-]c", "[a-]*", "a[&]&b", "a[|]|b", "a[~]~b",
    "arn:aws:s3:::*", "[a-c-e]*", "*\\*",
]  # fmt: skip
TODAY = date(2026, 11, 27)

FAR = date(2999, 12, 31)  # mute rules must expire


def test_globs_match_as_fnmatchcase(lake: Lake) -> None:
    strings = table("cwpp_test_strings", ["s"])
    lake.ensure_tables([strings])
    lake.insert_rows(strings, [{"_cq_id": f"00000000-0000-0000-0000-{i:012d}", "s": s}
                               for i, s in enumerate(STRINGS)])  # fmt: skip
    for pattern in PATTERNS:
        predicate, params = glob_sql("s", pattern, lake.dialect)
        sql = f"SELECT s FROM cwpp_test_strings WHERE {predicate}"
        rows = lake.query(sql, params) if params else lake.query(sql)
        got = sorted(r["s"] for r in rows)
        assert got == sorted(s for s in STRINGS if fnmatchcase(s, pattern)), repr(pattern)


def test_finding_ids_are_byte_identical(lake: Lake) -> None:
    keys = [("c", "arn:x", "1", "r"), ("c\u00fc", "a'b\nc", "", ""), ("c", "\u2603/x", "0", "eu")]
    for check, uid, account, region in keys:
        sql = "SELECT " + finding_id_sql(lake.dialect, "?", "?", "?", "?") + " AS fid"
        if lake.dialect == "postgres":
            sql = sql.replace("?", "CAST(? AS text)")
        got = lake.query(sql, [check, account, region, uid])[0]["fid"]
        assert got == finding_id(check, uid, account, region)


def _finding(check: str, uid: str, name: str, tags: dict[str, str], status: Status) -> Finding:
    return Finding(
        check_id=check,
        title="t",
        pillar=Pillar.ACCESS,
        severity=Severity.HIGH,
        status=status,
        resource=ResourceRef(
            uid=uid, type="T", account_id="111111111111", region="eu-west-1", name=name, tags=tags
        ),
        status_reason="detail",
    )


@pytest.mark.parametrize("split", [False, True], ids=["one-table", "table-per-check"])
def test_stage_mutes_like_apply(lake: Lake, split: bool) -> None:
    findings = [
        _finding(check, f"arn:{check}:{i}", name, tags, status)
        for check in ("s3_bucket_public_acl", "s3_bucket_versioning_enabled", "ec2_ami_public")
        for i, (name, tags, status) in enumerate(
            [
                ("web-1", {"env": "prod", "a/b": "x~y"}, Status.FAIL),
                ("web-2", {"env": "dev"}, Status.FAIL),
                ("data[1]", {}, Status.FAIL),
                ("web-3", {"env": "prod"}, Status.PASS),
                ("b_1%", {"team": "x\ny"}, Status.FAIL),
            ]
        )
    ]
    mutelist = Mutelist(
        (
            MuteRule(
                check="s3_*",
                resource="web-?",
                tags={"env": "prod"},
                reason="first",
                owner="a",
                expires=FAR,
            ),
            MuteRule(
                check="s3_bucket_*",
                resource="*",
                region="eu-*",
                reason="second",
                owner="b",
                expires=FAR,
            ),
            MuteRule(
                check="*",
                resource="*",
                tags={"a/b": "x~*"},
                reason="slash key",
                owner="c",
                expires=FAR,
            ),
            MuteRule(
                check="ec2_*",
                resource="b[_]1%",
                tags={"team": "x?y"},
                reason="newline",
                owner="d",
                expires=FAR,
            ),
            MuteRule(
                check="*", resource="*", reason="expired", owner="e", expires=date(2020, 1, 1)
            ),
            MuteRule(
                check="ec2_ami_public",
                resource="data[[]1]",
                account="1*",
                reason="bracket",
                owner="f",
                expires=FAR,
            ),
        )
    )
    expected = {(f.check_id, f.resource.uid): (f.status, f.status_reason)
                for f in mutelist.apply(findings, TODAY)}  # fmt: skip
    stage = Stage(lake)
    stage.create()
    try:
        checks = sorted({f.check_id for f in findings})
        meta = ("aws", "s3", True, "t", "access-control", "high", 3, "T", "r")
        stage.add_checks([CheckRow(c, i, *meta) for i, c in enumerate(checks)])
        stage.add_findings([(0, findings)])
        if split:  # as the assessment stages checks: a table per check
            columns = ", ".join(c.name for c in FINDINGS_STAGE.columns)
            for i, check in enumerate(checks):
                where = f"FROM {FINDINGS_STAGE.name} WHERE check_id = '{check}'"
                stage.add_select(check, i, f"SELECT {columns} {where}")
                lake.execute(f"DELETE {where}")
        stage.seal()
        stage.mute(mutelist, TODAY)
        rows = lake.query(
            f"SELECT check_id, resource_uid, status, status_reason, detail FROM {STAGED}"
        )
    finally:
        stage.drop()
    got = {
        (r["check_id"], r["resource_uid"]): (Status(r["status"]), r["status_reason"] or r["detail"])
        for r in rows
    }
    assert got == expected
    assert sum(1 for s, _ in got.values() if s is Status.MUTED) >= 6
