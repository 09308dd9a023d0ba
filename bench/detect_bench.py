"""Benchmark: CloudTrail ingest and detection throughput on DuckDB, against baselines.

Generates N realistic events from the shapes of the real records in the shared corpora
(identities, source IPs, times and ids varied), writes them as gzip `{"Records": [...]}` files
of 5,000 events (CloudTrail's delivery format), then measures ingest events/s into a DuckDB
lake, evaluation events/s with SigmaHQ's AWS rules, with every rule (SigmaHQ + our pack + the
stateful detections), and a naive per-event Python matcher over the same Sigma rules, as a
ratio. (The public pySigma DuckDB backend needs pySigma < 2 and is not compared.)

    .venv/bin/python bench/detect_bench.py --events 200000 [--data /tmp/ct200k]
"""

from __future__ import annotations

import argparse
import gzip
import ipaddress
import json
import random
import re
import tempfile
import time
import uuid
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
from opencwpp.detect.ingest import ingest, list_sources
from opencwpp.detect.pack import PACK_DIR, load_pack
from opencwpp.detect.sigma import load_rules
from opencwpp.detect.stateful import stateful_rules
from opencwpp.lake import Lake

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


def _rate(label: str, events: int, seconds: float, target: int | None = None) -> float:
    rate = events / seconds
    goal = f" (target {target:,})" if target else ""
    print(f"{label}: {events:,} events in {seconds:.2f}s = {rate:,.0f} events/s{goal}")
    return rate


def main() -> None:
    """Generates (or reuses), ingests, evaluates; prints the figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, help="Keep/reuse the generated files here.")
    parser.add_argument("--naive-sample", type=int, default=20_000)
    args = parser.parse_args()
    sigmahq = load_rules([SHARED / "sigma-aws" / "rules"]).rules
    ours = load_pack().rules
    stateful = stateful_rules()
    with tempfile.TemporaryDirectory(prefix="cwpp-bench-") as tmp:
        folder = args.data or Path(tmp) / "AWSLogs"
        if not (folder.is_dir() and any(folder.glob("*.json.gz"))):
            t0 = time.perf_counter()
            _write(folder, args.events, random.Random(args.seed))
            print(f"generated {args.events:,} events in {time.perf_counter() - t0:.1f}s")
        size = sum(p.stat().st_size for p in folder.glob("*.json.gz"))
        print(f"data: {folder} ({size / 1e6:.0f} MB gzip)")
        with Lake.open(f"duckdb://{Path(tmp) / 'lake.duckdb'}") as lake:
            t0 = time.perf_counter()
            n = ingest(lake, list_sources([str(folder)])).inserted
            _rate("ingest (gzip files -> DuckDB)", n, time.perf_counter() - t0, 100_000)
            timings = {}
            for label, rules in [
                (f"{len(sigmahq)} SigmaHQ rules", sigmahq),
                (f"{len(sigmahq) + len(ours)} Sigma rules (SigmaHQ + ours)", sigmahq + ours),
                (f"{len(stateful)} stateful detections", stateful),
                (
                    f"all {len(sigmahq) + len(ours) + len(stateful)} rules",
                    sigmahq + ours + stateful,
                ),
            ]:
                t0 = time.perf_counter()
                findings, matched = evaluate(lake, rules)
                timings[label] = _rate(f"evaluation, {label}", n, time.perf_counter() - t0, 300_000)
                print(f"  {matched:,} matches in {len(findings):,} alerts")
        trees = naive_load([SHARED / "sigma-aws" / "rules", PACK_DIR])
        sample: list[dict[str, Any]] = []
        for path in sorted(folder.glob("*.json.gz")):
            sample.extend(json.loads(gzip.decompress(path.read_bytes()))["Records"])
            if len(sample) >= args.naive_sample:
                break
        sample = sample[: args.naive_sample]
        t0 = time.perf_counter()
        hits = sum(1 for e in sample for tree in trees for c in tree if naive_matches(c, e))
        naive = _rate(
            f"naive Python matcher, {len(trees)} Sigma rules", len(sample), time.perf_counter() - t0
        )
        print(f"  {hits:,} matches on the sample")
        sql = timings[f"{len(sigmahq) + len(ours)} Sigma rules (SigmaHQ + ours)"]
        print(f"ratio: SQL engine / naive matcher on the same Sigma rules = {sql / naive:,.1f}x")


if __name__ == "__main__":
    main()
