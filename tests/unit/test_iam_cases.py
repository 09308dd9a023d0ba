"""Every simulation case under tests/data/iam/cases, each its own test, against its `expect`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opencwpp.iam.cases import SimCase, load_cases, run_case

CASES_DIR = Path(__file__).resolve().parents[1] / "data" / "iam" / "cases"
FILES = sorted(CASES_DIR.glob("*.json"))


def _all_cases() -> list[tuple[str, SimCase]]:
    out = []
    for path in FILES:
        for case in load_cases(path):
            out.append((f"{path.stem}:{case.name}", case))
    return out


ALL = _all_cases()


def test_at_least_100_cases_each_citing_a_rule() -> None:
    assert len(ALL) >= 100
    for path in FILES:
        for raw in json.loads(path.read_text()):
            assert raw.get("cite"), f"{path.name}: {raw.get('name')} has no cite"
            assert raw.get("expect") in ("Allow", "ImplicitDeny", "ExplicitDeny")


def test_every_outcome_is_covered() -> None:
    assert {c.expect for _, c in ALL} == {"Allow", "ImplicitDeny", "ExplicitDeny"}


@pytest.mark.parametrize("case", [c for _, c in ALL], ids=[i for i, _ in ALL])
def test_case(case: SimCase) -> None:
    decision = run_case(case)
    assert decision.kind == case.expect, f"{case.cite}\nreasons: {decision.reasons}"
    if decision.kind.value == "ExplicitDeny" or (
        decision.kind.value == "Allow" and ":root" not in case.request.principal
    ):
        assert decision.statements, "an Allow or ExplicitDeny names the statements that decided it"
    assert decision.reasons
