"""Every rule of the pack and every stateful detection on its own cases, on both backends."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from opencwpp.catalog import lake_tables
from opencwpp.detect.ingest import ingest, list_sources
from opencwpp.detect.inventory import known_accounts
from opencwpp.detect.pack import load_pack, pack_files
from opencwpp.detect.stateful import DETECTIONS
from opencwpp.lake import Lake

DATA = Path(__file__).parents[1] / "data" / "detect"
DEFAULTS = yaml.safe_load((DATA / "cases" / "_defaults.yml").read_text())


def _format(value: Any, i: int) -> Any:
    if isinstance(value, str):
        return value.replace("{i}", str(i))
    if isinstance(value, list):
        return [_format(v, i) for v in value]
    if isinstance(value, dict):
        return {k: _format(v, i) for k, v in value.items()}
    return value


def build_events(specs: list[dict[str, Any]], prefix: str) -> tuple[list[dict[str, Any]], set[str]]:
    """Case events merged over the defaults, expanded (`repeat`, `every_seconds`, `{i}`);
    returns them and the ids of those marked `flag: true`."""
    out: list[dict[str, Any]] = []
    flagged: set[str] = set()
    for spec in specs:
        spec = dict(spec)
        repeat, step = int(spec.pop("repeat", 1)), int(spec.pop("every_seconds", 0))
        flag = bool(spec.pop("flag", False))
        for i in range(repeat):
            event = copy.deepcopy(DEFAULTS) | _format(copy.deepcopy(spec), i)
            start = datetime.fromisoformat(event["eventTime"].replace("Z", "+00:00"))
            event["eventTime"] = (start + timedelta(seconds=i * step)).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
            event.setdefault("eventID", f"{prefix}-{len(out)}")
            out.append(event)
            if flag:
                flagged.add(event["eventID"])
    return out, flagged


def load_events(lake: Lake, events: list[dict[str, Any]], folder: Path) -> None:
    """Replaces the lake's events with these."""
    if lake.table_exists("aws_cloudtrail_events"):
        lake.execute("DELETE FROM aws_cloudtrail_events")
    path = folder / "events.json"
    path.write_text(json.dumps(events))
    report = ingest(lake, list_sources([str(path)]), force=True)
    assert report.inserted == len(events), report.files


def test_pack_rules_on_their_cases(lake: Lake, tmp_path: Path) -> None:
    rules = load_pack().rules
    by_path = {Path(r.path).stem: r for r in rules}
    events: list[dict[str, Any]] = []
    expected: dict[str, tuple[set[str], set[str]]] = {}
    for path in pack_files():
        doc = yaml.safe_load((DATA / "cases" / f"{path.stem}.yml").read_text())
        good, _ = build_events(doc["match"], f"{path.stem}:m")
        bad, _ = build_events(doc["no_match"], f"{path.stem}:n")
        expected[path.stem] = ({e["eventID"] for e in good}, {e["eventID"] for e in bad})
        events += good + bad
    load_events(lake, events, tmp_path)
    stems = sorted(expected)
    union = " UNION ALL ".join(
        f"SELECT {i} AS i, event_id FROM aws_cloudtrail_events "
        f"WHERE event_id LIKE '{stem}:%' AND {by_path[stem].where}"
        for i, stem in enumerate(stems)
    )
    got: dict[str, set[str]] = {stem: set() for stem in stems}
    for row in lake.query(union):
        got[stems[int(row["i"])]].add(str(row["event_id"]))
    for stem in stems:
        assert got[stem] == expected[stem][0], stem


# The inventory stateful cases run with: the event's own account synced, a sibling in the
# Organization (`inventory: none` in a case: nothing collected).
INVENTORY = {
    "cwpp_sync_scopes": [
        {
            "table_name": "aws_ec2_ebs_snapshots",
            "account_id": "111111111111",
            "region": "us-east-1",
            "status": "ok",
            "_cq_source_name": "aws",
        }
    ],
    "aws_organizations_accounts": [
        {
            "id": "111111111111",
            "arn": "arn:aws:organizations::111111111111:account/o-x/111111111111",
        },
        {
            "id": "222222222222",
            "arn": "arn:aws:organizations::111111111111:account/o-x/222222222222",
        },
    ],
}


def load_inventory(lake: Lake, with_rows: bool) -> None:
    """Replaces the inventory tables the detections join with."""
    catalog = lake_tables()
    for name, rows in INVENTORY.items():
        if lake.table_exists(name):
            lake.execute(f"DROP TABLE {name}")
        if with_rows:
            lake.ensure_tables([catalog[name]])
            lake.insert_rows(catalog[name], [r | {"_cq_id": str(uuid.uuid4())} for r in rows])


@pytest.mark.parametrize("detection", DETECTIONS, ids=lambda d: d.id)
def test_stateful_detection_cases(lake: Lake, tmp_path: Path, detection: Any) -> None:
    doc = yaml.safe_load((DATA / "stateful" / f"{detection.id}.yml").read_text())
    where = detection.compiled().where
    for case in doc["cases"]:
        events, flagged = build_events(case["events"], "e")
        load_events(lake, events, tmp_path)
        load_inventory(lake, case.get("inventory") != "none")
        with known_accounts(lake):
            rows = lake.query(f"SELECT event_id FROM aws_cloudtrail_events WHERE {where}")
        got = {str(r["event_id"]) for r in rows}
        if case["expect"] == "quiet":
            assert got == set(), case["name"]
        else:
            assert flagged and got == flagged, case["name"]
