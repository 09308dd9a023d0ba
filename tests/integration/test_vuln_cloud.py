"""`cwpp vuln scan aws` end to end against moto over HTTP: Lambda code fetched, scanned, keyed."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
import typer
from typer.testing import CliRunner

from opencwpp.cli import vuln_commands
from opencwpp.collect.aws.session import AwsContext
from opencwpp.findings import FindingFilter, load_findings
from opencwpp.lake import Lake
from opencwpp.vuln.cloud.lambda_scan import scan_lambda
from opencwpp.vuln.osv.importer import detect_and_import

REGION = "ap-southeast-2"  # a region no other test of the shared moto server uses
BUCKET = f"awslambda-{REGION}-tasks"
ACCOUNT = "123456789012"
FUNCTIONS = {  # name: (runtime, Django version in the zip)
    "cwpp-vuln-old": ("python3.8", "3.2.0"),
    "cwpp-vuln-fixed": ("python3.12", "3.2.5"),
    "cwpp-vuln-denied": ("python3.12", "3.2.0"),
}


def _arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def _zip(django: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handler.py", "def handler(event, context):\n    return 1\n")
        z.writestr(
            f"Django-{django}.dist-info/METADATA",
            f"Metadata-Version: 2.1\nName: Django\nVersion: {django}\n",
        )
    return buf.getvalue()


def _fixtures(root: Path) -> list[Path]:
    osv = root / "osv"
    osv.mkdir(parents=True)
    record = {
        "id": "PYSEC-2099-1",
        "modified": "2024-01-01T00:00:00Z",
        "aliases": ["CVE-2099-1"],
        "summary": "SQL injection",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "django"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "3.0"}, {"fixed": "3.2.5"}]}
                ],
            }
        ],
    }
    (osv / "PYSEC-2099-1.json").write_text(json.dumps(record))
    eol = {
        "aws-lambda": {
            "title": "AWS Lambda",
            "category": "service",
            "releases": [
                {
                    "releaseCycle": "python3.8",
                    "releaseLabel": "Python 3.8",
                    "eoas": "2024-10-14",
                    "eol": "2025-02-28",
                },
                {
                    "releaseCycle": "python3.12",
                    "releaseLabel": "Python 3.12",
                    "eoas": "2099-10-31",
                    "eol": "2099-12-31",
                },
            ],
        }
    }
    (root / "eol.json").write_text(json.dumps(eol))
    return [osv, root / "eol.json"]


@pytest.fixture(scope="module")
def functions(moto_endpoint: str) -> dict[str, str]:
    """Three zip functions in moto, their code in moto's S3 (the Lambda tasks bucket)."""
    session = boto3.Session(region_name=REGION)
    s3 = session.client("s3", endpoint_url=moto_endpoint)
    lam = session.client("lambda", endpoint_url=moto_endpoint)
    iam = session.client("iam", endpoint_url=moto_endpoint)
    role = iam.create_role(
        RoleName="cwpp-vuln-cloud-test",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    for name, (runtime, django) in FUNCTIONS.items():
        s3.put_object(Bucket=BUCKET, Key=f"{name}.zip", Body=_zip(django))
        lam.create_function(
            FunctionName=name,
            Runtime=runtime,
            Role=role,
            Handler="handler.handler",
            Code={"S3Bucket": BUCKET, "S3Key": f"{name}.zip"},
        )
    return {name: _arn(name) for name in FUNCTIONS}


class _Denied:
    status_code = 403


def _deny_get_function(name: str) -> Any:
    """A botocore before-call hook: GetFunction of `name` answers AccessDeniedException."""

    def hook(params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]] | None:
        if name in str(params.get("url_path", "")):
            error = {"Code": "AccessDeniedException", "Message": "not authorized to GetFunction"}
            return _Denied(), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 403}}
        return None

    return hook


def test_lambda_scan_keys_findings_to_functions(
    lake: Lake, functions: dict[str, str], moto_endpoint: str, tmp_path: Path
) -> None:
    for path in _fixtures(tmp_path):
        detect_and_import(lake, path)
    ctx = AwsContext.create(endpoint_url=moto_endpoint)
    ctx.client("lambda", REGION).meta.events.register(
        "before-call.lambda.GetFunction", _deny_get_function("cwpp-vuln-denied")
    )
    result = scan_lambda(lake, ctx, [REGION])
    by_name = {s.function.name: s for s in result.functions}
    assert set(by_name) == set(FUNCTIONS)
    denied = by_name["cwpp-vuln-denied"]
    assert denied.error and "AccessDeniedException" in denied.error and not denied.findings
    assert by_name["cwpp-vuln-fixed"].error is None and by_name["cwpp-vuln-fixed"].findings == []
    old = by_name["cwpp-vuln-old"]
    assert old.error is None and old.packages == 1 and len(old.findings) == 1
    finding = old.findings[0]
    assert finding.resource.uid.partition("#")[0] == functions["cwpp-vuln-old"]
    assert finding.resource.region == REGION and finding.resource.account_id == ACCOUNT
    assert finding.check_id == "CVE-2099-1"
    assert finding.evidence["package"]["name"] == "Django"
    assert finding.evidence["package"]["version"] == "3.2.0"
    assert finding.evidence["fixed_versions"] == ["3.2.5"]
    assert finding.evidence["resource"]["arn"] == functions["cwpp-vuln-old"]
    reasons = finding.evidence["priority"]["reasons"]
    assert any(
        "runtime python3.8" in r and "past end of life since 2024-10-14" in r for r in reasons
    )
    stored = load_findings(lake, FindingFilter(pillars=("vulnerability",)))
    assert [(s.finding.resource.uid, s.lifecycle) for s in stored] == [
        (f"{functions['cwpp-vuln-old']}#PyPI/Django", "NEW")
    ]
    rows = lake.query("SELECT resource_uid, name, version FROM cwpp_packages ORDER BY resource_uid")
    assert [r["resource_uid"] for r in rows] == [
        functions["cwpp-vuln-fixed"],
        functions["cwpp-vuln-old"],
    ]
    # Rescan after the fix: the finding is resolved; the denied function's state is untouched.
    s3 = boto3.Session(region_name=REGION).client("s3", endpoint_url=moto_endpoint)
    s3.put_object(Bucket=BUCKET, Key="cwpp-vuln-old.zip", Body=_zip("3.2.5"))
    lam = boto3.Session(region_name=REGION).client("lambda", endpoint_url=moto_endpoint)
    lam.update_function_code(
        FunctionName="cwpp-vuln-old", S3Bucket=BUCKET, S3Key="cwpp-vuln-old.zip"
    )
    try:
        again = scan_lambda(lake, ctx, [REGION])
    finally:
        lam.update_function_code(
            FunctionName="cwpp-vuln-old", S3Bucket=BUCKET, S3Key="cwpp-vuln-old.zip"
        )
        s3.put_object(Bucket=BUCKET, Key="cwpp-vuln-old.zip", Body=_zip("3.2.0"))
        lam.update_function_code(
            FunctionName="cwpp-vuln-old", S3Bucket=BUCKET, S3Key="cwpp-vuln-old.zip"
        )
    assert again.findings == []
    lifecycle = {s.finding.resource.uid: s.lifecycle for s in load_findings(lake, FindingFilter())}
    assert lifecycle == {f"{functions['cwpp-vuln-old']}#PyPI/Django": "RESOLVED"}


def _cli() -> typer.Typer:
    root = typer.Typer()

    @root.callback()
    def _cb() -> None:
        """Test root."""

    root.add_typer(vuln_commands.app, name="vuln")
    return root


def test_cli_scan_aws(functions: dict[str, str], moto_endpoint: str, tmp_path: Path) -> None:
    lake = f"duckdb://{tmp_path / 'lake.duckdb'}"
    runner = CliRunner()
    out = runner.invoke(
        _cli(), ["vuln", "db", "import", *map(str, _fixtures(tmp_path)), "--lake", lake]
    )
    assert out.exit_code == 0, out.output
    args = ["vuln", "scan", "aws", "--regions", REGION, "--endpoint-url", moto_endpoint]
    out = runner.invoke(_cli(), [*args, "-f", "json", "--lake", lake, "--fail-on", "high"])
    assert out.exit_code == 0, out.output  # the advisory has no CVSS: medium assumed
    doc = json.loads(out.stdout)
    found = sorted((d["resource"]["arn"], d["package"]["name"], d["fixed_versions"]) for d in doc)
    # No denial here: both functions shipping Django 3.2.0 are found, the fixed one is not.
    assert found == [
        (functions["cwpp-vuln-denied"], "Django", ["3.2.5"]),
        (functions["cwpp-vuln-old"], "Django", ["3.2.5"]),
    ]
    assert "X-Amz" not in out.output and "amazonaws.com" not in out.output
    out = runner.invoke(_cli(), [*args, "--lake", lake, "--fail-on", "medium"])
    assert out.exit_code == 1 and "3 functions scanned" in out.output
    out = runner.invoke(
        _cli(), ["vuln", "scan", str(tmp_path), "--regions", REGION, "--lake", lake]
    )
    assert out.exit_code != 0 and "apply to `vuln scan aws` only" in str(out.exception)
