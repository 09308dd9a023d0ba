"""Benchmark: CloudTrail ingest and Sigma evaluation throughput on DuckDB.

Generates N realistic events from the shapes of the real records in the shared corpora
(identities, source IPs, times and ids varied), writes them as gzip `{"Records": [...]}` files
of 5,000 events (CloudTrail's delivery format), then measures ingest events/s into a DuckDB
lake and evaluation events/s with every SigmaHQ AWS rule.

    .venv/bin/python bench/detect_bench.py --events 200000
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from opencwpp.detect.engine import evaluate
from opencwpp.detect.ingest import ingest, list_sources
from opencwpp.detect.sigma import load_rules
from opencwpp.lake import Lake

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


def main() -> None:
    """Generates, ingests, evaluates; prints the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    shapes = templates()
    rules = load_rules([SHARED / "sigma-aws" / "rules"]).rules
    with tempfile.TemporaryDirectory(prefix="cwpp-bench-") as tmp:
        folder = Path(tmp) / "AWSLogs"
        folder.mkdir()
        t0 = time.perf_counter()
        for index in range(0, args.events, PER_FILE):
            batch = generate(shapes, min(PER_FILE, args.events - index), rng)
            body = json.dumps({"Records": batch}).encode()
            (folder / f"{index // PER_FILE:05d}.json.gz").write_bytes(gzip.compress(body, 6))
        gen_s = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in folder.iterdir())
        print(f"generated {args.events:,} events in {gen_s:.1f}s ({size / 1e6:.0f} MB gzip)")
        with Lake.open(f"duckdb://{Path(tmp) / 'lake.duckdb'}") as lake:
            t0 = time.perf_counter()
            report = ingest(lake, list_sources([str(folder)]))
            ingest_s = time.perf_counter() - t0
            print(
                f"ingest: {report.inserted:,} events in {ingest_s:.2f}s = "
                f"{report.inserted / ingest_s:,.0f} events/s (target 100,000)"
            )
            t0 = time.perf_counter()
            findings, matched = evaluate(lake, rules)
            eval_s = time.perf_counter() - t0
            print(
                f"evaluation: {len(rules)} SigmaHQ rules over {report.inserted:,} events in "
                f"{eval_s:.2f}s = {report.inserted / eval_s:,.0f} events/s (target 300,000); "
                f"{matched:,} matches in {len(findings):,} alerts"
            )


if __name__ == "__main__":
    main()
