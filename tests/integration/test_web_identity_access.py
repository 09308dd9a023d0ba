"""Identity page (escalation paths as a graph) and resource page (who can access it, public
flagged) over real HTTP, fed by the IAM engine's own analyses on DuckDB and PostgreSQL."""

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from opencwpp.core.models import Finding, Pillar, ResourceRef, Severity, Status
from opencwpp.findings import finish_run, save_findings, start_run
from opencwpp.iam.effective import TABLE, AccessRow, compute, save
from opencwpp.iam.exposure_findings import run_exposure
from opencwpp.iam.lake_policies import load_estate
from opencwpp.iam.privesc import CHECK_ID, run_privesc
from opencwpp.lake import Lake
from opencwpp.web import WebConfig
from opencwpp.web.server import running
from tests.integration.test_iam_lake import A, _fill
from tests.integration.test_web_dashboard import HOSTILE, _get

DEV = f"arn:aws:iam::{A}:user/dev"
BOX = f"arn:aws:iam::{A}:role/box"
READER = f"arn:aws:iam::{A}:user/reader"


def fill_iam(lake: Lake, effective: bool = True) -> None:
    """IAM inventory rows, then the engine's privesc, effective-access and exposure results."""
    _fill(lake)
    estate = load_estate(lake)
    run_privesc(lake, estate)
    run_exposure(lake, estate)
    if effective:
        save(lake, compute(estate))


@pytest.fixture
def iam_site(lake_url: str) -> Iterator[str]:
    with Lake.open(lake_url) as lake:
        fill_iam(lake)
    with running(WebConfig(lake_url)) as base:
        yield base


def svg_of(page: str) -> ET.Element:
    found = re.search(r'<svg class="escalation".*?</svg>', page, re.S)
    assert found, "no escalation graph on the page"
    return ET.fromstring(found.group(0))  # well-formed: every name was escaped


def test_identity_draws_principal_technique_admin(iam_site: str) -> None:
    status, page, headers = _get(iam_site + "/identity")
    assert status == 200 and "unsafe-inline" not in headers["content-security-policy"]
    svg = svg_of(page)
    ns = "{http://www.w3.org/2000/svg}"
    nodes = {
        g.find(f"{ns}text").text: (g.get("class"), float(g.find(f"{ns}rect").get("x")))
        for g in svg.iter(f"{ns}g")
    }
    # dev --ec2-001 (pass the admin role to an instance)--> box, which is admin: left to right
    order = sorted(nodes, key=lambda label: nodes[label][1])
    assert order == ["dev", "ec2-001", "box", "admin"]
    kinds = ["principal", "technique", "principal", "admin"]
    assert [nodes[label][0] for label in order] == [f"node node-{k}" for k in kinds]
    links = [a.get("href") for a in svg.iter(f"{ns}a")]
    assert f"/resource?uid={DEV.replace(':', '%3A').replace('/', '%2F')}" in links
    edges = [p.get("class") for p in svg.iter(f"{ns}path") if p.get("class", "").startswith("edge")]
    assert edges == ["edge", "edge", "edge is-admin"]
    api = json.loads(_get(iam_site + "/api/identity")[1])
    assert api["paths_total"] == 1 and api["paths"][0]["principal"] == DEV
    assert api["paths"][0]["steps"][0]["technique"] == "ec2-001"


def test_resource_page_lists_who_can_and_flags_public(iam_site: str) -> None:
    _, page, _ = _get(iam_site + "/resource?uid=arn:aws:s3:::data")
    assert 'id="public-flag"' in page and "anyone (anonymous)" in page
    assert "s3:GetObject" in page and "from cwpp_iam_effective_access" in page
    access = json.loads(_get(iam_site + "/api/resource?uid=arn:aws:s3:::data")[1])["access"]
    assert access["is_public"] and access["source"] == "stored"
    assert len(access["principals"]) == 5  # the whole account, through the bucket policy
    assert {a["who"] for a in access["public"]} >= {"anyone (anonymous)"}
    vault = json.loads(_get(iam_site + "/api/resource?uid=arn:aws:s3:::vault")[1])["access"]
    assert not vault["is_public"]
    assert {p["principal"] for p in vault["principals"]} == {READER, BOX}
    reader = next(p for p in vault["principals"] if p["principal"] == READER)
    assert reader["allow"] == ["s3:GetObject"]
    assert reader["statements"] == ["Allow inline:user/reader/p #0"]
    _, vault_page, _ = _get(iam_site + "/resource?uid=arn:aws:s3:::vault")
    assert 'id="public-flag"' not in vault_page and "user/reader" in vault_page
    partner = json.loads(_get(iam_site + f"/api/resource?uid=arn:aws:iam::{A}:role/partner")[1])[
        "access"
    ]
    assert [e["who"] for e in partner["cross_account"]] == ["account 444455556666"]
    passers = json.loads(_get(iam_site + f"/api/resource?uid={BOX}")[1])["access"]
    assert {p["principal"] for p in passers["principals"]} == {DEV, BOX}


def test_who_can_is_evaluated_now_without_the_stored_table(tmp_path: Path) -> None:
    url = f"duckdb://{tmp_path / 'lake.duckdb'}"
    with Lake.open(url) as lake:
        fill_iam(lake, effective=False)
        assert not lake.table_exists(TABLE.name)
    with running(WebConfig(url)) as base:
        vault = json.loads(_get(base + "/api/resource?uid=arn:aws:s3:::vault")[1])["access"]
        assert vault["source"] == "evaluated now"
        allowed = {p["principal"]: p["allow"] for p in vault["principals"]}
        assert allowed[READER] == ["s3:GetObject"] and BOX in allowed
        _, page, _ = _get(base + "/resource?uid=arn:aws:s3:::vault")
        assert "evaluated now from the IAM policies in the lake" in page
        # an EC2 instance has no access model here: nothing evaluated, nothing claimed
        other = json.loads(
            _get(base + f"/api/resource?uid=arn:aws:ec2:eu-west-1:{A}:instance/i-1")[1]
        )["access"]
        assert other == {
            "source": "",
            "principals": [],
            "public": [],
            "cross_account": [],
            "is_public": False,
            "assessed": False,
        }


def _hostile_step() -> dict[str, Any]:
    return {"from": DEV, "to": "admin", "technique": HOSTILE, "technique_title": HOSTILE}


def test_hostile_names_in_paths_and_access_rows_are_escaped(tmp_path: Path) -> None:
    url = f"duckdb://{tmp_path / 'lake.duckdb'}"
    evil = f"arn:aws:iam::{A}:user/{HOSTILE}"
    with Lake.open(url) as lake:
        run = start_run(lake, "iam-privesc")
        finding = Finding(
            check_id=CHECK_ID,
            title="x",
            pillar=Pillar.ACCESS,
            severity=Severity.CRITICAL,
            status=Status.FAIL,
            resource=ResourceRef(evil, "AwsIamUser", A, "", HOSTILE),
            evidence={"steps": 1, "path": [_hostile_step()]},
        )
        save_findings(lake, run, [finding], [CHECK_ID])
        finish_run(lake, run, "ok", {})
        row = AccessRow(evil, "s3:GetObject", "arn:aws:s3:::vault/*", "Allow", [], A)
        save(lake, [row])
    with running(WebConfig(url)) as base:
        _, page, _ = _get(base + "/identity")
        assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
        svg_of(page)
        _, page, _ = _get(base + "/resource?uid=arn:aws:s3:::vault")
        assert "<img" not in page and "user/&lt;img" in page
