"""Benchmark: CloudTrail ingest and detection throughput on DuckDB, against baselines.

Generates N realistic events from the shapes of the real records in the shared corpora
(identities, source IPs, times and ids varied), writes them as gzip `{"Records": [...]}` files
of 5,000 events (CloudTrail's delivery format), then measures ingest events/s into a DuckDB
lake, evaluation events/s with SigmaHQ's AWS rules, with every rule (SigmaHQ + our pack + the
stateful detections), the public pySigma DuckDB backend on the same events (in its own venv,
see detect_pysigma.py), and a naive per-event Python matcher over the same Sigma rules, as
ratios; then where that backend's matches differ from ours on the labelled corpora. Each
figure carries wall and CPU seconds and the load average (the machine is shared).

    .venv/bin/python bench/detect_bench.py --events 200000 [--data /tmp/ct200k] [--no-peer]
"""

from __future__ import annotations

import argparse
import gzip
import ipaddress
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sigma.collection import SigmaCollection
from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.rule import SigmaRule
from sigma.types import (
    CompareOperators,
    SigmaBool,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaString,
)

from opencwpp.detect.engine import evaluate
from opencwpp.detect.ingest import ingest, list_sources, scan
from opencwpp.detect.inventory import known_accounts
from opencwpp.detect.pack import PACK_DIR, load_pack
from opencwpp.detect.sigma import load_rules
from opencwpp.detect.sigma.correlation_alerts import correlation_findings
from opencwpp.detect.stateful import stateful_rules
from opencwpp.lake import Lake

sys.path.insert(0, str(Path(__file__).resolve().parent))
import detect_pysigma as peer

_OPS = {
    CompareOperators.LT: lambda a, b: a < b,
    CompareOperators.LTE: lambda a, b: a <= b,
    CompareOperators.GT: lambda a, b: a > b,
    CompareOperators.GTE: lambda a, b: a >= b,
    CompareOperators.NEQ: lambda a, b: a != b,
}
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
PER_FILE = 5000


def templates() -> list[dict[str, Any]]:
    """Every real record of the corpora, as shapes to vary."""
    out: list[dict[str, Any]] = []
    for path in sorted((SHARED / "cloudtrail").rglob("*.json")):
        if path.name == "labels.json":
            continue
        text = path.read_text()
        try:
            data = json.loads(text)
            out.extend(data if isinstance(data, list) else [data])
        except json.JSONDecodeError:
            out.extend(json.loads(line) for line in text.splitlines() if line.strip())
    return [r for r in out if isinstance(r, dict) and "eventID" in r]


def generate(shapes: list[dict[str, Any]], n: int, rng: random.Random) -> list[dict[str, Any]]:
    """n events: real shapes with fresh ids, times over a week, 500 identities, 2,000 IPs."""
    start = datetime(2024, 7, 1, tzinfo=UTC)
    events = []
    for _ in range(n):
        event = json.loads(json.dumps(rng.choice(shapes)))
        event["eventID"] = str(uuid.UUID(int=rng.getrandbits(128)))
        when = start + timedelta(seconds=rng.randrange(7 * 86400))
        event["eventTime"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        event["sourceIPAddress"] = f"198.51.{rng.randrange(8)}.{rng.randrange(250)}"
        identity = event.get("userIdentity")
        if isinstance(identity, dict) and "arn" in identity:
            user = f"user-{rng.randrange(500)}"
            identity["arn"] = str(identity["arn"]).rsplit("/", 1)[0] + "/" + user
        events.append(event)
    return events


def naive_load(paths: list[Path]) -> list[Any]:
    """Parsed condition trees of every (non-correlation) rule under the paths."""
    trees = []
    for folder in paths:
        for path in sorted(folder.rglob("*.yml")):
            for rule in SigmaCollection.from_yaml(path.read_text()).rules:
                if isinstance(rule, SigmaRule):
                    trees.append([c.parsed for c in rule.detection.parsed_condition])
    return trees


def _get(event: dict[str, Any], dotted: str) -> Any:
    value: Any = event
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


_PATTERNS: dict[int, tuple[SigmaString, re.Pattern[str]]] = {}


def _pattern(value: SigmaString) -> re.Pattern[str]:
    cached = _PATTERNS.get(id(value))
    if cached is None:
        regex = re.compile(value.to_regex().regexp.original, re.IGNORECASE | re.DOTALL)
        cached = _PATTERNS[id(value)] = (value, regex)
    return cached[1]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _value(actual: Any, value: Any, event: dict[str, Any]) -> bool:
    if isinstance(value, SigmaExpansion):
        return any(_value(actual, v, event) for v in value.values)
    if isinstance(value, SigmaNull):
        return actual is None
    if isinstance(value, SigmaExists):
        return (actual is not None) == value.exists
    if actual is None:
        return False
    if isinstance(value, SigmaString):
        return _pattern(value).fullmatch(_text(actual)) is not None
    if isinstance(value, SigmaBool):
        return _text(actual).lower() == ("true" if value.boolean else "false")
    if isinstance(value, SigmaNumber):
        return _text(actual) == str(value.number)
    if isinstance(value, SigmaRegularExpression):
        return re.search(value.regexp.original, _text(actual)) is not None
    if isinstance(value, SigmaCIDRExpression):
        try:
            return ipaddress.ip_address(_text(actual)) in value.network
        except ValueError:
            return False
    if isinstance(value, SigmaFieldReference):
        other = _get(event, value.field)
        return other is not None and _text(other).lower() == _text(actual).lower()
    if isinstance(value, SigmaCompareExpression):
        try:
            number = float(_text(actual))
        except ValueError:
            return False
        return bool(_OPS[value.op](number, value.number.number))
    return False


def naive_matches(node: Any, event: dict[str, Any]) -> bool:
    """Whether one parsed condition matches one event (a CloudTrail record as a dict)."""
    if isinstance(node, ConditionAND):
        return all(naive_matches(a, event) for a in node.args)
    if isinstance(node, ConditionOR):
        return any(naive_matches(a, event) for a in node.args)
    if isinstance(node, ConditionNOT):
        return not naive_matches(node.args[0], event)
    if isinstance(node, ConditionFieldEqualsValueExpression):
        return _value(_get(event, node.field), node.value, event)
    if isinstance(node, ConditionValueExpression):
        return False
    return False


def _write(folder: Path, n: int, rng: random.Random) -> None:
    shapes = templates()
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(0, n, PER_FILE):
        batch = generate(shapes, min(PER_FILE, n - index), rng)
        body = json.dumps({"Records": batch}).encode()
        (folder / f"{index // PER_FILE:05d}.json.gz").write_bytes(gzip.compress(body, 6))


CPU_RATES: dict[str, float] = {}


def _rate(label: str, events: int, wall: float, cpu: float, target: int | None = None) -> float:
    """Prints events/s (wall) and events per CPU second; returns the wall rate."""
    rate = events / wall if wall else 0.0
    CPU_RATES[label] = events / cpu if cpu else 0.0
    goal = f" (target {target:,})" if target else ""
    print(
        f"{label}: {events:,} events in {wall:.2f}s wall, {cpu:.2f}s CPU, "
        f"load {os.getloadavg()[0]:.1f} = {rate:,.0f} events/s{goal}, "
        f"{CPU_RATES[label]:,.0f} events per CPU second",
        flush=True,
    )
    return rate


class _Clock:
    """Wall and CPU seconds (CPU: the whole process, DuckDB's threads included)."""

    def __enter__(self) -> _Clock:
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall0
        self.cpu = time.process_time() - self.cpu0


_SCAN_PHASE = "read + gunzip + scan to Arrow columns (C, every core)"
_PHASES = [
    (
        "INSERT INTO aws_cloudtrail_events",
        "validate + insert (DuckDB; files the scan left: parse too)",
    ),
    ("CREATE OR REPLACE TEMP TABLE cwpp_later", "copies of an event id within a batch"),
    ("SELECT source AS src, CASE", "per-file counts"),
    ("DELETE FROM aws_cloudtrail_events", "markers and later copies deleted"),
]


@contextmanager
def _phases(lake: Lake, into: dict[str, list[float]]) -> Iterator[None]:
    """Adds each statement's wall and CPU seconds to `into`, by ingest phase."""
    originals = (lake.execute, lake.query, lake.transaction)

    def timed(run: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(sql: str, *args: Any) -> Any:
            with _Clock() as clock:
                result = run(sql, *args)
            name = next((n for prefix, n in _PHASES if sql.startswith(prefix)), "other SQL")
            slot = into.setdefault(name, [0.0, 0.0])
            slot[0] += clock.wall
            slot[1] += clock.cpu
            return result

        return wrapper

    @contextmanager
    def transaction() -> Iterator[None]:
        with originals[2]():
            yield
            clock = _Clock().__enter__()  # the commit: when the block is left
        clock.__exit__()
        slot = into.setdefault("commit", [0.0, 0.0])
        slot[0] += clock.wall
        slot[1] += clock.cpu

    def scanned(*args: Any) -> Any:
        with _Clock() as clock:
            result = scan_files(*args)
        slot = into.setdefault(_SCAN_PHASE, [0.0, 0.0])
        slot[0] += clock.wall
        slot[1] += clock.cpu
        return result

    scan_files = scan.scan_files
    lake.execute, lake.query = timed(lake.execute), timed(lake.query)  # type: ignore[method-assign]
    lake.transaction = transaction  # type: ignore[method-assign]
    scan.scan_files = scanned  # type: ignore[assignment]
    try:
        yield
    finally:
        lake.execute, lake.query, lake.transaction = originals  # type: ignore[method-assign]
        scan.scan_files = scan_files


def _ingest(lake: Lake, folder: Path) -> tuple[int, float]:
    phases: dict[str, list[float]] = {}
    with _phases(lake, phases), _Clock() as clock:
        n = ingest(lake, list_sources([str(folder)])).inserted
    rate = _rate("ingest (gzip files -> DuckDB)", n, clock.wall, clock.cpu, 100_000)
    for name, (wall, cpu) in phases.items():
        print(f"  {name}: {wall:.2f}s wall, {cpu:.2f}s CPU")
    rest = clock.wall - sum(w for w, _ in phases.values())
    print(f"  Python (listing, sniffing, bookkeeping): {rest:.2f}s wall")
    with _Clock() as again:
        report = ingest(lake, list_sources([str(folder)]), force=True)
    print(
        f"  again with --force: {report.read:,} read, {report.inserted} inserted, "
        f"{again.wall:.2f}s wall, {again.cpu:.2f}s CPU"
    )
    lake.execute("CHECKPOINT")
    size = sum(p.stat().st_size for p in Path(lake.url.removeprefix("duckdb://")).parent.glob("*"))
    print(f"  lake size after ingest: {size / 1e6:,.0f} MB")
    return n, rate


def _ours(lake: Lake, n: int, sets: list[tuple[str, list[Any]]]) -> dict[str, float]:
    rates = {}
    plain = [r for r in sets[1][1] if r.correlation is None]
    union = " UNION ALL ".join(
        f"SELECT {i} AS rule, count(*) AS n FROM aws_cloudtrail_events WHERE {r.where}"
        for i, r in enumerate(plain)
    )
    with _Clock() as clock:
        matches = sum(int(row["n"]) for row in lake.query(union))
    rates["predicates"] = _rate(
        f"ours, predicates only: {len(plain)} Sigma rules counted in one UNION ALL query "
        "(as the pySigma backend run below)",
        n,
        clock.wall,
        clock.cpu,
    )
    print(f"  {matches:,} matches")
    for label, rules in sets:
        queries: dict[str, list[float]] = {}
        with _queries(lake, queries), _Clock() as clock:
            findings, matched = evaluate(lake, rules)
        rates[label] = _rate(f"ours, {label}", n, clock.wall, clock.cpu, 300_000)
        print(f"  {matched:,} matches in {len(findings):,} alerts")
        for name, (wall, cpu) in queries.items():
            print(f"    {name}: {wall:.2f}s wall, {cpu:.2f}s CPU")
        rest = clock.cpu - sum(c for _, c in queries.values())
        print(f"    Python (findings from the rows): {rest:.2f}s CPU")
    return rates


@contextmanager
def _queries(lake: Lake, into: dict[str, list[float]]) -> Iterator[None]:
    """Wall and CPU seconds of each engine query (a rule batch, or one correlation)."""
    original = lake.query

    def timed(sql: str, *args: Any) -> Any:
        with _Clock() as clock:
            rows = original(sql, *args)
        kind = "correlation" if sql.startswith("WITH ev AS") else "rule batch"
        name = f"query {len(into) + 1} ({kind}, {len(rows):,} rows)"
        into[name] = [clock.wall, clock.cpu]
        return rows

    lake.query = timed  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        lake.query = original  # type: ignore[method-assign]


def _stateful_costs(lake: Lake, rules: list[Any]) -> None:
    """Each stateful detection alone, as a count: where the stateful time goes."""
    print("stateful detections one by one (count of flagged events):")
    with known_accounts(lake):
        for rule in rules:
            with _Clock() as clock:
                sql = f"SELECT count(*) AS n FROM aws_cloudtrail_events WHERE {rule.where}"
                count = int(lake.query(sql)[0]["n"])
            print(f"  {rule.id}: {clock.wall:.2f}s wall, {clock.cpu:.2f}s CPU, {count:,} events")


def _peer(lake: Lake, n: int, converted: dict[str, Any]) -> float:
    rules = converted["rules"]
    plain = [r for r in peer.runnable(rules) if not r["correlation"]]
    peer.flat_view(lake, rules)
    rate = 0.0
    for batched in (False, True):
        run = peer.evaluate(lake, plain, batched=batched)
        how = "all in one UNION ALL query" if batched else "one query per rule"
        label = f"pySigma DuckDB backend, {len(plain) - len(run.failed)} Sigma rules, {how}"
        rate = max(rate, _rate(label, n, run.wall, run.cpu, 300_000))
        print(f"  {run.matches:,} matches; queries that fail: {len(run.failed)}")
        for title, error in run.failed.items():
            print(f"    {title}: {error}")
    return rate


def _correlations(lake: Lake, ours: list[Any], converted: dict[str, Any]) -> None:
    """Correlation rules: our alerts (windowed) against the backend's rows (no window)."""
    by_id = {r.id: r for r in ours if r.correlation is not None}
    for entry in converted["rules"]:
        rule = by_id.get(entry["id"])
        if rule is None or not entry.get("queries"):
            continue
        found, _ = correlation_findings(lake, rule, None)
        rows = lake.query(entry["queries"][0])
        print(
            f"  correlation {rule.title!r} (timespan {rule.correlation.timespan}): "
            f"ours {len(found):,} alerts, pySigma backend {len(rows):,} groups (timespan ignored)"
        )


def _conversion(folders: list[Path]) -> dict[str, Any]:
    with _Clock() as clock:
        converted = peer.convert(folders)
    rules = converted["rules"]
    ok = sum(1 for r in rules if "queries" in r)
    ours = load_rules(folders)
    print(
        f"conversion: pySigma DuckDB backend {ok}/{len(rules)} rules "
        f"({converted['seconds']:.2f}s in its venv, {clock.wall:.1f}s with start-up); "
        f"ours {len(ours.rules)} compiled + {len(ours.problems)} problems"
    )
    return converted


def _corpus_diff(converted: dict[str, Any], tmp: Path) -> None:
    """Ingests the labelled corpora; prints where the backend's matches differ from ours."""
    rules = load_rules([SHARED / "sigma-aws" / "rules", PACK_DIR]).rules
    records = {str(r["eventID"]): r for r in templates()}
    with Lake.open(f"duckdb://{tmp / 'corpora.duckdb'}") as lake:
        report = ingest(lake, list_sources([str(SHARED / "cloudtrail")]))
        peer.flat_view(lake, converted["rules"])
        diffs, correlations = peer.corpus_diff(lake, rules, converted["rules"], records)
    print(f"labelled corpora ({report.inserted} events): rules whose matches differ from ours")
    print("  | rule | only ours | only pySigma backend | cause |")
    for diff in diffs:
        causes = "; ".join(f"{k} ({v})" for k, v in diff.causes.items())
        print(f"  | {diff.title} | {diff.ours_only} | {diff.theirs_only} | {causes} |")
    for title, mine, theirs, span in correlations:
        print(f"  | {title} (correlation, {span}) | {mine} alerts | {theirs} groups | timespan |")


def _naive(folder: Path, size: int) -> float:
    trees = naive_load([SHARED / "sigma-aws" / "rules", PACK_DIR])
    sample: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.json.gz")):
        sample.extend(json.loads(gzip.decompress(path.read_bytes()))["Records"])
        if len(sample) >= size:
            break
    sample = sample[:size]
    with _Clock() as clock:
        hits = sum(1 for e in sample for tree in trees for c in tree if naive_matches(c, e))
    rate = _rate(
        f"naive Python matcher, {len(trees)} Sigma rules", len(sample), clock.wall, clock.cpu
    )
    print(f"  {hits:,} matches on the sample")
    return rate


def _summary(label: str, rates: list[float], target: int) -> None:
    """The best and the median of several runs' events/s, and each run's."""
    each = ", ".join(f"{r:,.0f}" for r in rates)
    print(
        f"{label}, {len(rates)} runs: best {max(rates):,.0f} events/s, median "
        f"{statistics.median(rates):,.0f} (target {target:,}; each: {each})"
    )


def main() -> None:
    """Generates (or reuses), ingests, evaluates; prints the figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, help="Keep/reuse the generated files here.")
    parser.add_argument("--naive-sample", type=int, default=20_000)
    parser.add_argument("--no-peer", action="store_true", help="Skip the pySigma backend.")
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="Ingest (into a new lake each time) and evaluate N times; prints every run, then "
        "the best and the median: a shared machine's speed varies from minute to minute.",
    )
    args = parser.parse_args()
    folders = [SHARED / "sigma-aws" / "rules", PACK_DIR]
    sigmahq = load_rules([SHARED / "sigma-aws" / "rules"]).rules
    ours = load_pack().rules
    stateful = stateful_rules()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    converted = None if args.no_peer else _conversion(folders)
    with tempfile.TemporaryDirectory(prefix="cwpp-bench-") as tmp:
        folder = args.data or Path(tmp) / "AWSLogs"
        if not (folder.is_dir() and any(folder.glob("*.json.gz"))):
            t0 = time.perf_counter()
            _write(folder, args.events, random.Random(args.seed))
            print(f"generated {args.events:,} events in {time.perf_counter() - t0:.1f}s")
        size = sum(p.stat().st_size for p in folder.glob("*.json.gz"))
        print(f"data: {folder} ({size / 1e6:.0f} MB gzip)")
        ingest_rates: list[float] = []
        for run in range(args.runs):
            lake_file = Path(tmp) / f"lake{run}.duckdb"
            with Lake.open(f"duckdb://{lake_file}") as lake:
                n, rate = _ingest(lake, folder)
            ingest_rates.append(rate)
            if run < args.runs - 1:
                for part in Path(tmp).glob(f"{lake_file.name}*"):
                    part.unlink()
        with Lake.open(f"duckdb://{lake_file}") as lake:
            sigma_label = f"{len(sigmahq) + len(ours)} Sigma rules (SigmaHQ + ours)"
            all_label = f"all {len(sigmahq) + len(ours) + len(stateful)} rules"
            runs = [
                _ours(
                    lake,
                    n,
                    [
                        (f"{len(sigmahq)} SigmaHQ rules", sigmahq),
                        (sigma_label, sigmahq + ours),
                        (f"{len(stateful)} stateful detections", stateful),
                        (all_label, sigmahq + ours + stateful),
                    ],
                )
                for _ in range(args.runs)
            ]
            rates = runs[-1]
            if args.runs > 1:
                _summary("ingest", ingest_rates, 100_000)
                _summary(f"ours, {all_label}", [r[all_label] for r in runs], 300_000)
            _stateful_costs(lake, stateful)
            peer_rate = 0.0
            if converted is not None:
                peer_rate = _peer(lake, n, converted)
                _correlations(lake, ours, converted)
        naive = _naive(folder, args.naive_sample)
        sql = rates[sigma_label]
        print(f"ratio: ours / naive Python matcher on the same Sigma rules = {sql / naive:,.1f}x")
        if converted is not None:
            print(
                f"ratio: ours (alerts) / pySigma DuckDB backend (counts, its best run) = "
                f"{sql / peer_rate:,.2f}x wall; ours (counts) / it = "
                f"{rates['predicates'] / peer_rate:,.2f}x wall"
            )
            _corpus_diff(converted, Path(tmp))


if __name__ == "__main__":
    main()
