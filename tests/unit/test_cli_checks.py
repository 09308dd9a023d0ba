"""`cwpp checks test`: the cases of the chosen checks, and exit 1 when one does not hold."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from opencwpp.checks import Check
from opencwpp.checks.cases import Case, load_cases
from opencwpp.cli import checks as checks_cli
from opencwpp.core.errors import UsageError
from opencwpp.core.models import Status

FLIPPED = {Status.PASS: Status.FAIL, Status.FAIL: Status.PASS}


def _flipped_cases(check: Check) -> Iterator[Case]:
    for case in load_cases(check):
        expect = {uid: FLIPPED.get(status, status) for uid, status in case.expect.items()}
        yield dataclasses.replace(case, expect=expect)


def test_only_the_named_checks_run_and_all_hold() -> None:
    done = CliRunner().invoke(checks_cli.checks_app, ["test", "-c", "s3_bucket_default_encryption"])
    assert done.exit_code == 0, done.output
    assert "1 checks," in done.output and " 0 failed" in done.output


def test_a_case_that_does_not_hold_is_named_and_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checks_cli, "load_cases", _flipped_cases)
    done = CliRunner().invoke(checks_cli.checks_app, ["test", "-c", "s3_bucket_default_encryption"])
    assert done.exit_code == 1
    assert "FAIL s3_bucket_default_encryption:" in done.output
    assert " 0 passed" in done.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pillar", "nope"], "unknown pillar 'nope'"),
        (["-c", "no_such_check"], "unknown check id(s): no_such_check"),
        (["-c", "s3_bucket_default_encryption", "--service", "iam"], "no check matches"),
    ],
)
def test_a_selection_of_nothing_is_a_usage_error(args: list[str], message: str) -> None:
    done = CliRunner().invoke(checks_cli.checks_app, ["test", *args])
    assert isinstance(done.exception, UsageError)
    assert message in str(done.exception)
