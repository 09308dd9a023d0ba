"""The labelled corpora as regression tests: every Stratus Red Team technique is detected by
its specific rule (our pack or a stateful detection), and the OTRF breach is found."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from opencwpp.catalog import lake_tables
from opencwpp.core.models import Pillar, Severity
from opencwpp.detect.engine import detect
from opencwpp.detect.ingest import ingest, list_sources
from opencwpp.detect.inventory import known_accounts
from opencwpp.detect.pack import load_pack
from opencwpp.detect.sigma.rules import CompiledRule
from opencwpp.detect.stateful import stateful_rules
from opencwpp.detect.stateful.sharing import SHARED_OUTSIDE
from opencwpp.lake import Lake
from tests.conftest import require_shared

EXPECTED: dict[str, list[str]] = json.loads(
    (Path(__file__).parents[1] / "data" / "detect" / "stratus_expected_rules.json").read_text()
)["expected"]


def _all_rules() -> list[CompiledRule]:
    return load_pack().rules + stateful_rules()


def _fired(lake: Lake, rules: list[CompiledRule]) -> dict[str, set[str]]:
    """Per file prefix of the event ids (`<file>|<eventID>`): the check ids that matched."""
    union = " UNION ALL ".join(
        f"SELECT DISTINCT {i} AS i, split_part(event_id, '|', 1) AS f "
        f"FROM aws_cloudtrail_events WHERE {r.where}"
        for i, r in enumerate(rules)
    )
    out: dict[str, set[str]] = {}
    with known_accounts(lake):
        rows = lake.query(union)
    for row in rows:
        out.setdefault(str(row["f"]), set()).add(rules[int(row["i"])].check_id)
    return out


def _ingest_stratus(lake: Lake, tmp_path: Path) -> list[dict[str, Any]]:
    base = require_shared("cloudtrail") / "stratus-red-team-detonation-logs"
    labels = json.loads((base / "labels.json").read_text())
    assert sorted(n.removesuffix(".json") for n in labels) == sorted(EXPECTED)
    # The files reuse some eventIDs (anonymised copies): prefix them so each file keeps its own.
    events: list[dict[str, Any]] = []
    for name in labels:
        data = json.loads((base / name).read_text())
        for record in data if isinstance(data, list) else [data]:
            events.append(record | {"eventID": f"{name.removesuffix('.json')}|{record['eventID']}"})
    (tmp_path / "stratus.json").write_text(json.dumps(events))
    assert ingest(lake, list_sources([str(tmp_path / "stratus.json")])).inserted == len(events)
    return events


def test_every_stratus_technique_has_its_specific_detection(lake: Lake, tmp_path: Path) -> None:
    _ingest_stratus(lake, tmp_path)
    fired = _fired(lake, _all_rules())
    missed = {t: want for t, want in EXPECTED.items() if not set(want) <= fired.get(t, set())}
    print(f"Stratus Red Team: {len(EXPECTED) - len(missed)}/{len(EXPECTED)} techniques detected")
    assert missed == {}
    assert len(EXPECTED) == 37 and all(EXPECTED.values())


def test_sharing_outside_the_estate_fires_on_the_sharing_techniques(
    lake: Lake, tmp_path: Path
) -> None:
    events = _ingest_stratus(lake, tmp_path)
    scopes = lake_tables()["cwpp_sync_scopes"]
    accounts = sorted({str(e["recipientAccountId"]) for e in events})
    lake.ensure_tables([scopes])
    lake.insert_rows(
        scopes,
        [
            {"_cq_id": str(uuid.uuid4()), "_cq_source_name": "aws", "table_name": "t"}
            | {"account_id": account, "region": "us-east-1", "status": "ok"}
            for account in accounts
        ],
    )
    fired = _fired(lake, [SHARED_OUTSIDE.compiled()])
    # Each detonation shares with, or opens a trust to, an account outside the lake's estate.
    assert sorted(fired) == [
        "aws.exfiltration.ec2-share-ami",
        "aws.exfiltration.ec2-share-ebs-snapshot",
        "aws.exfiltration.rds-share-snapshot",
        "aws.persistence.iam-backdoor-role",
        "aws.persistence.iam-create-backdoor-role",
    ]


def test_otrf_instance_credential_theft_then_s3_reads(lake: Lake) -> None:
    data = require_shared("cloudtrail") / "otrf-security-datasets"
    assert ingest(lake, list_sources([str(data)])).inserted == 103
    result = detect(lake, _all_rules())
    by_check = {f.check_id: f for f in result.findings}
    theft = by_check["stateful:instance-credentials-used-off-instance"]
    reads = by_check["stateful:instance-credentials-s3-data-read"]
    role = "arn:aws:sts::123456789123:assumed-role/MordorNginxStack-BankingWAFRole-9S3E0UAE1MM0/"
    for alert in (theft, reads):
        assert alert.resource.uid == role + "i-0317f6c6b66ae9c40"
        assert alert.pillar is Pillar.THREAT and alert.evidence["event_count"] == 11
    assert {"T1552.005", "T1078.004"} <= set(theft.mitre_attack)
    assert "T1530" in reads.mitre_attack and reads.severity is Severity.CRITICAL
    # The operator's own console session from the same address is not an alert of these two.
    assert all("user/pedro" not in f.resource.uid for f in (theft, reads))
