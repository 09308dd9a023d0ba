"""The public pySigma DuckDB backend (`pysigma-backend-duckdb`) beside our Sigma engine.

That backend pins pySigma < 2 (opencwpp uses pySigma 2), so it lives in its own virtual
environment, `bench/.venv-pysigma`, installed on first use from `bench/requirements-pysigma.txt`;
`detect_pysigma_convert.py` converts the rules there and hands the SQL back as JSON.

Its SQL reads a table `logs` whose columns are named as the Sigma fields (`eventName`,
`"userIdentity.type"`, `"requestParameters.userName"`: a dotted name is one quoted column).
The fairest input is a flat VIEW over our own `aws_cloudtrail_events`: one column per field the
rules name, each the very expression our engine uses for that field (the typed column, or the
same JSON extraction), plus `timestamp` (= event_time) for its correlations. Both engines thus
read the same table through the same expressions; only the predicates they generate differ.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from opencwpp.detect.sigma.correlation_alerts import correlation_findings
from opencwpp.detect.sigma.fields import sigma_field_sql
from opencwpp.detect.sigma.rules import CompiledRule
from opencwpp.lake import Lake

BENCH = Path(__file__).resolve().parent
VENV = BENCH / ".venv-pysigma"
REQUIREMENTS = BENCH / "requirements-pysigma.txt"
CONVERTER = BENCH / "detect_pysigma_convert.py"
_EQUALS = re.compile(r"(\"[^\"]+\"|\b[A-Za-z_][\w.]*)='((?:[^']|'')*)'")
_FIELD = re.compile(r"\"([^\"]+)\"|\b([A-Za-z_][A-Za-z0-9_]*)\b")


def ensure_venv() -> Path:
    """The bench venv's python, creating the venv (pinned requirements) the first time."""
    python = VENV / "bin" / "python"
    stamp = VENV / ".installed"
    if stamp.exists() and stamp.read_text() == REQUIREMENTS.read_text():
        return python
    print(f"installing pysigma-backend-duckdb into {VENV} ...", flush=True)
    subprocess.run(["python3", "-m", "venv", str(VENV)], check=True)
    pip = [str(VENV / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)
    stamp.write_text(REQUIREMENTS.read_text())
    return python


def convert(folders: list[Path]) -> dict[str, Any]:
    """Every rule under the folders as that backend converts it (see detect_pysigma_convert)."""
    python = ensure_venv()
    out = subprocess.run(
        [str(python), str(CONVERTER), *map(str, folders)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def flat_view(lake: Lake, rules: list[dict[str, Any]]) -> list[str]:
    """Creates the view `logs` over our events table; returns its Sigma field columns.

    A field the rules compare with `lt`/`gt`… is a number in the view (as a JSON reader would
    type it); every other one is text, as our engine reads it.
    """
    fields = sorted({f for r in rules for f in r.get("fields", [])})
    numeric = {f for r in rules for f in r.get("numeric", [])}
    cols = [
        f'TRY_CAST({sigma_field_sql(f)} AS DOUBLE) AS "{f}"'
        if f in numeric
        else f'{sigma_field_sql(f)} AS "{f}"'
        for f in fields
    ]
    lake.execute(
        "CREATE OR REPLACE VIEW logs AS SELECT event_id AS _event_id, event_time AS "
        f'"timestamp", {", ".join(cols)} FROM aws_cloudtrail_events'
    )
    return fields


@dataclass
class PeerRun:
    """One evaluation of the backend's queries: time, CPU, matches, and rules that failed."""

    wall: float = 0.0
    cpu: float = 0.0
    matches: int = 0
    failed: dict[str, str] = field(default_factory=dict)


def runnable(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The converted rules with a query (a base rule that only feeds a correlation has none)."""
    return [r for r in rules if r.get("queries")]


def evaluate(lake: Lake, rules: list[dict[str, Any]], *, batched: bool) -> PeerRun:
    """Runs every converted query over the view: one query per rule, or all in one UNION ALL.

    Each query is wrapped in count(*) (its `SELECT *` would otherwise ship every matched row
    to Python); a query that DuckDB refuses is recorded with its error and left out.
    """
    run = PeerRun()
    good = []
    for rule in runnable(rules):
        try:
            lake.query(f"SELECT count(*) AS n FROM ({rule['queries'][0]}) AS m LIMIT 0")
            good.append(rule)
        except duckdb.Error as err:
            run.failed[rule["title"]] = str(err).splitlines()[0][:160]
    t0, c0 = time.perf_counter(), time.process_time()
    if batched:
        union = " UNION ALL ".join(
            f"SELECT {i} AS rule, count(*) AS n FROM ({r['queries'][0]}) AS m"
            for i, r in enumerate(good)
        )
        run.matches = sum(int(row["n"]) for row in lake.query(union))
    else:
        for rule in good:
            rows = lake.query(f"SELECT count(*) AS n FROM ({rule['queries'][0]}) AS m")
            run.matches += int(rows[0]["n"])
    run.wall, run.cpu = time.perf_counter() - t0, time.process_time() - c0
    return run


def _get(record: dict[str, Any], dotted: str) -> Any:
    value: Any = record
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _not_fields(sql: str) -> set[str]:
    """Field names inside the `NOT (...)` parts of a generated query."""
    out: set[str] = set()
    for match in re.finditer(r"NOT\s*(\(|\")", sql):
        depth, i = 0, match.start(1)
        while i < len(sql):
            depth += sql[i] == "("
            depth -= sql[i] == ")"
            if depth <= 0 and (sql[i] == ")" or sql[match.start(1)] == '"'):
                break
            i += 1
        span = sql[match.start(1) : i + 1] if sql[match.start(1)] == "(" else sql[match.start(1) :]
        span = re.sub(r"'(?:[^']|'')*'", "''", span)
        for quoted, bare in _FIELD.findall(span):
            name = quoted or bare
            if name not in {"AND", "OR", "NOT", "IS", "NULL", "ILIKE", "regexp_matches"}:
                out.add(name)
    return out


def cause(sql: str, record: dict[str, Any], ours: bool) -> str:
    """Why the backend's result differs from ours on one event (a best guess from the SQL).

    `ours` is True when our engine matched the event and the backend did not.
    """
    if ours:
        for quoted, value in _EQUALS.findall(sql):
            actual = _get(record, quoted.strip('"'))
            expected = value.replace("''", "'")
            text = None if actual is None else _text(actual)
            if text is not None and text != expected and text.lower() == expected.lower():
                return "case: `=` compares case-sensitively"
        if any(_get(record, f) is None for f in _not_fields(sql)):
            return "missing field under `not` (NULL drops the event)"
        return "other"
    if "ILIKE '%" in sql and "fieldref" not in sql:
        return "other (pattern handling)"
    return "other"


@dataclass
class Diff:
    """Per rule: events only we match, only the backend matches, and their causes."""

    title: str
    ours_only: int = 0
    theirs_only: int = 0
    causes: dict[str, int] = field(default_factory=dict)


def corpus_diff(
    lake: Lake,
    ours: list[CompiledRule],
    theirs: list[dict[str, Any]],
    records: dict[str, dict[str, Any]],
) -> tuple[list[Diff], list[tuple[str, int, int, str]]]:
    """Where the backend's matches differ from ours on the events in `lake` (the corpora).

    Returns the per-rule differences of plain rules, and for each correlation rule
    (title, our alerts, its result rows, its timespan) -- the backend ignores timespans.
    """
    by_id = {r.id: r for r in ours}
    diffs: list[Diff] = []
    correlations: list[tuple[str, int, int, str]] = []
    for entry in runnable(theirs):
        rule = by_id.get(entry["id"]) or by_id.get(entry["name"])
        if rule is None:
            continue
        sql = entry["queries"][0]
        if rule.correlation is not None:
            found, _ = correlation_findings(lake, rule, None)
            try:
                rows = len(lake.query(sql))
            except duckdb.Error:
                rows = -1
            span = rule.correlation.timespan
            correlations.append((rule.title, len(found), rows, span))
            continue
        mine = {
            str(r["event_id"])
            for r in lake.query(f"SELECT event_id FROM aws_cloudtrail_events WHERE {rule.where}")
        }
        try:
            peer = {str(r["_event_id"]) for r in lake.query(f"SELECT _event_id FROM ({sql}) m")}
        except duckdb.Error as err:
            diffs.append(Diff(rule.title, len(mine), 0, {f"query fails: {err}"[:80]: len(mine)}))
            continue
        if mine == peer:
            continue
        diff = Diff(rule.title, len(mine - peer), len(peer - mine))
        for event_id, is_ours in [(e, True) for e in mine - peer] + [
            (e, False) for e in peer - mine
        ]:
            reason = cause(sql, records.get(event_id, {}), is_ours)
            diff.causes[reason] = diff.causes.get(reason, 0) + 1
        diffs.append(diff)
    return diffs, correlations


def load_average() -> str:
    """The 1-minute load average, for the figures' context."""
    return f"{os.getloadavg()[0]:.1f}"
