"""Alert grouping: DuckDB's aggregate query gives the portable window query's groups."""

from __future__ import annotations

from typing import Any

from opencwpp.detect.engine import MAX_EVIDENCE_EVENTS, evaluate, rules_sql
from opencwpp.detect.ingest import ingest, list_sources
from opencwpp.detect.inventory import known_accounts
from opencwpp.detect.pack import PACK_DIR
from opencwpp.detect.sigma import load_rules
from opencwpp.detect.stateful import stateful_rules
from opencwpp.lake import Lake
from tests.conftest import require_shared


def _window_groups(lake: Lake, rules: list[Any]) -> list[tuple[str, str, int, list[str]]]:
    """(check id, identity, event count, first event ids) from the portable window query."""
    groups: dict[tuple[int, str], tuple[int, list[str]]] = {}
    with known_accounts(lake):
        for start in range(0, len(rules), 64):
            batch = rules[start : start + 64]
            for row in lake.query(rules_sql(batch)):
                key = (start + int(row["rule_index"]), str(row["identity"]))
                groups.setdefault(key, (int(row["n"]), []))[1].append(str(row["event_id"]))
    return sorted((rules[i].check_id, who, n, ids) for (i, who), (n, ids) in groups.items())


def test_grouped_alerts_equal_the_window_query_on_the_corpora(lake: Lake) -> None:
    data = require_shared("cloudtrail")
    rules = [
        r
        for r in load_rules([require_shared("sigma-aws") / "rules", PACK_DIR]).rules
        + stateful_rules()
        if r.correlation is None
    ]
    ingest(lake, list_sources([str(data / "stratus-red-team-detonation-logs")]))
    findings, matched = evaluate(lake, rules)
    got = sorted(
        (
            f.check_id,
            f.resource.uid,
            int(f.evidence["event_count"]),
            list(f.evidence["event_ids"]),
        )
        for f in findings
    )
    assert got == _window_groups(lake, rules)
    assert matched == sum(n for _, _, n, _ in got) and len(got) > 30
    assert all(len(ids) <= MAX_EVIDENCE_EVENTS for _, _, _, ids in got)
    first = next(f for f in findings if int(f.evidence["event_count"]) > 1)
    assert first.first_seen is not None and first.last_seen is not None
    assert first.first_seen <= first.last_seen
