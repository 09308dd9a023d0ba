"""`cwpp iam simulate` through Typer's runner: table, JSON, expectations, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opencwpp.cli.iam_commands import app
from opencwpp.iam.cases import CaseError

CASES_DIR = Path(__file__).resolve().parents[1] / "data" / "iam" / "cases"
runner = CliRunner()

ONE = {
    "policies": {
        "identity": [
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
                ],
            }
        ]
    },
    "request": {
        "principal": "arn:aws:iam::111122223333:user/alice",
        "action": "s3:GetObject",
        "resource": "arn:aws:s3:::b/k",
    },
}


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(data))
    return path


def test_all_case_files_pass_through_the_cli() -> None:
    for path in sorted(CASES_DIR.glob("*.json")):
        result = runner.invoke(app, ["simulate", str(path), "-f", "json"])
        assert result.exit_code == 0, result.output
        out = json.loads(result.stdout)
        assert isinstance(out, list) and out
        assert all(item["decision"] == item["expect"] for item in out)


def test_single_case_json_is_one_object(tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", str(_write(tmp_path, ONE)), "-f", "json"])
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["decision"] == "Allow"
    assert out["reasons"] and out["statements"][0]["source"] == "identity"


def test_table_output_names_decision_and_reason(tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", str(_write(tmp_path, [ONE]))])
    assert result.exit_code == 0
    assert "Allow" in result.stdout and "identity" in result.stdout


def test_expectation_mismatch_exits_1(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["simulate", str(_write(tmp_path, [{**ONE, "expect": "ExplicitDeny"}]))]
    )
    assert result.exit_code == 1
    assert "differ from expect" in result.stdout


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"policies": {}}, "missing key 'request'"),
        (
            {"policies": {}, "request": {"principal": "anonymous", "resource": "*"}},
            "missing key 'action'",
        ),
        ({**ONE, "expect": "Maybe"}, "key 'expect'"),
        (
            {
                "policies": {"identity": [{"Statement": [{"Effect": "Permit", "Action": "*"}]}]},
                "request": ONE["request"],
            },
            "Effect must be",
        ),
    ],
)
def test_bad_case_is_one_line_error(tmp_path: Path, data: object, needle: str) -> None:
    path = _write(tmp_path, data)
    result = runner.invoke(app, ["simulate", str(path)])
    assert isinstance(result.exception, CaseError)
    message = str(result.exception)
    assert needle in message and str(path) in message and "\n" not in message


def test_bad_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    result = runner.invoke(app, ["simulate", str(path)])
    assert isinstance(result.exception, CaseError)
    assert "broken.json" in str(result.exception) and "not valid JSON" in str(result.exception)
