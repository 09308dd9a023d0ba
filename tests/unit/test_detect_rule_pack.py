"""Conformance of opencwpp's rule pack: every rule parses, carries its metadata and has cases."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
import yaml

from opencwpp.detect.pack import PACK_DIR, load_pack, pack_files
from opencwpp.detect.sigma.rules import TACTICS
from opencwpp.detect.stateful import DETECTIONS

CASES = Path(__file__).parents[1] / "data" / "detect" / "cases"
STATEFUL_CASES = Path(__file__).parents[1] / "data" / "detect" / "stateful"
_TECHNIQUE = re.compile(r"^attack\.t\d{4}(\.\d{3})?$")


def test_pack_loads_without_problems() -> None:
    ruleset = load_pack()
    assert ruleset.problems == []
    assert len(ruleset.rules) == len(pack_files()) >= 30
    assert len({r.id for r in ruleset.rules}) == len(ruleset.rules)


@pytest.mark.parametrize("path", pack_files(), ids=lambda p: p.stem)
def test_rule_metadata_and_cases(path: Path) -> None:
    docs = list(yaml.safe_load_all(path.read_text()))
    rule = docs[-1]  # a correlation rule follows the base rules it references
    for key in ("title", "id", "status", "description", "references", "falsepositives", "level"):
        assert rule.get(key), f"{path.name}: {key} missing"
    assert uuid.UUID(rule["id"]) and rule["author"] == "opencwpp"
    for doc in docs:
        assert doc.get("logsource") or doc.get("correlation"), f"{path.name}: not a rule"
        if "logsource" in doc:
            assert doc["logsource"] == {"product": "aws", "service": "cloudtrail"}
    tags = rule["tags"]
    assert any(_TECHNIQUE.match(t) for t in tags), f"{path.name}: no ATT&CK technique tag"
    assert any(t.removeprefix("attack.") in TACTICS for t in tags), f"{path.name}: no tactic"
    assert path.parent.name.replace("_", "-") in TACTICS  # rules/<tactic>/<name>.yml
    cases = yaml.safe_load((CASES / f"{path.stem}.yml").read_text())
    assert cases["rule"] == rule["id"]
    assert cases["match"] and cases["no_match"], f"{path.name}: needs a positive and a negative"
    assert PACK_DIR in path.parents


@pytest.mark.parametrize("detection", DETECTIONS, ids=lambda d: d.id)
def test_stateful_detection_metadata_and_cases(detection: object) -> None:
    from opencwpp.detect.stateful import StatefulDetection

    assert isinstance(detection, StatefulDetection)
    assert detection.title and detection.description and detection.references
    assert any(_TECHNIQUE.match(t) for t in detection.tags)
    assert any(t.removeprefix("attack.") in TACTICS for t in detection.tags)
    doc = yaml.safe_load((STATEFUL_CASES / f"{detection.id}.yml").read_text())
    assert doc["detection"] == detection.id
    expects = {c["expect"] for c in doc["cases"]}
    assert expects == {"fire", "quiet"}, f"{detection.id}: needs a firing and a quiet case"
    compiled = detection.compiled()
    assert compiled.check_id == f"stateful:{detection.id}" and compiled.author == "opencwpp"
