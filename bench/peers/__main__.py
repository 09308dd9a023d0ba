"""`python -m bench.peers`: opencwpp, Prowler and ScoutSuite on the same emulated estate.

For each scale: reset the emulator, build the estate (ground truth), then run every tool in
turn, several times (tools interleaved per repetition), each as a measured child process with
the API calls it makes counted at the emulator. Prints Markdown tables and writes
`bench/peers/results/<timestamp>/results.{json,md}`; `--update-results` also refreshes the
committed `bench/peers/RESULTS.md`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import urllib.request
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.peers.emulator import CallCounter, counting_moto
from bench.peers.estate import DEFAULT_REGIONS, KINDS, build
from bench.peers.measure import Spawner, combine
from bench.peers.report import render, summarise_runs
from bench.peers.score import Mapping, Score, disagreements, score
from bench.peers.tools import OURS_EOL, TOOLS, Tool, isolated_env
from bench.peers.truth import GroundTruth

HERE = Path(__file__).parent
RESULTS = HERE / "results"


def _reset(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=60) as answer:
        answer.read()


def _run_tool(
    spawner: Spawner,
    tool: Tool,
    endpoint: str,
    regions: tuple[str, ...],
    work: Path,
    counter: CallCounter,
    timeout_s: float,
) -> dict[str, Any]:
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    env = isolated_env(endpoint, work, tool.bin_dir)
    counter.take()
    parts = [
        spawner.run(step, env, work, work / "tool.log", timeout_s)
        for step in tool.steps(endpoint, regions, work)
    ]
    calls = counter.take()
    measure = combine(parts)
    load = os.getloadavg()[0]  # other work on the machine slows every tool's wall time
    print(
        f"  {tool.name:<10} wall {measure.wall_s:7.1f}s  cpu {measure.cpu_s:7.1f}s  "
        f"rss {measure.peak_rss_mib:6.0f} MiB  calls {calls['total']:6d}  rc {measure.returncode}  "
        f"load {load:.1f}",
        flush=True,
    )
    return {
        "measure": measure.to_json(),
        "steps": [p.to_json() for p in parts],
        "calls": calls,
        "load_after": round(load, 2),
    }


def _by_kind(result: Score) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(lambda: dict(found=0, defects=0, fp=0, near=0))
    for v in result.defects:
        out[v.entry.kind]["defects"] += 1
        out[v.entry.kind]["found"] += v.flagged
    for v in result.near_misses:
        out[v.entry.kind]["near"] += 1
        out[v.entry.kind]["fp"] += v.flagged
    return dict(out)


def run_scale(
    spawner: Spawner,
    scale: int,
    tools: list[Tool],
    reps: int,
    endpoint: str,
    counter: CallCounter,
    out: Path,
    regions: tuple[str, ...],
    timeout_s: float,
) -> dict[str, Any]:
    """Builds the estate at `scale` and measures and scores every tool on it."""
    _reset(endpoint)
    print(f"\n== N = {scale}: building the estate ...", flush=True)
    truth = build(endpoint, scale, regions)
    counter.take()
    truth.save(out / f"truth-N{scale}.json")
    print(
        f"   {truth.resource_count} resources, {len(truth.defects)} defects, "
        f"{len(truth.near_misses)} near-misses",
        flush=True,
    )
    runs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rep in range(1, reps + 1):
        print(f"-- repetition {rep}/{reps}", flush=True)
        # Rotate the order: the first run after a build pays the emulator's lazy start-up.
        shift = (rep - 1) % len(tools)
        for tool in tools[shift:] + tools[:shift]:
            work = out / f"N{scale}" / f"{tool.name}-{rep}"
            runs[tool.name].append(
                _run_tool(spawner, tool, endpoint, regions, work, counter, timeout_s)
            )
    scores = []
    section: dict[str, Any] = {
        "scale": scale,
        "resources": truth.resource_count,
        "defects": len(truth.defects),
        "near_misses": len(truth.near_misses),
        "kinds": {k: KINDS[k] for k in sorted(truth.kinds())},
        "tools": {},
    }
    for tool in tools:
        result = _score_tool(tool, truth, out / f"N{scale}", reps)
        scores.append(result)
        section["tools"][tool.name] = {
            "version": tool.version,
            "runs": runs[tool.name],
            "summary": summarise_runs(runs[tool.name]),
            "score": result.per_pillar(),
            "by_kind": _by_kind(result),
            "missed": [_entry_json(v.entry) for v in result.defects if not v.flagged],
            "false_positives": [
                {**_entry_json(v.entry), "checks": v.checks}
                for v in result.near_misses
                if v.flagged
            ],
        }
    section["disagreements"] = [
        {
            "kind": d.kind,
            "pillar": d.pillar,
            "resource": d.resource,
            "planted": d.planted,
            "flagged_by": d.flagged_by,
            "passed_by": d.passed_by,
            "right": d.right,
        }
        for d in disagreements(scores)
    ]
    return section


def _entry_json(entry: Any) -> dict[str, str]:
    return {"kind": entry.kind, "resource": entry.resource.name or entry.resource.uid}


def _score_tool(tool: Tool, truth: GroundTruth, runs_dir: Path, reps: int) -> Score:
    """Scores the last repetition that produced readable output (findings are deterministic)."""
    mapping = Mapping.load(tool.name)
    for rep in range(reps, 0, -1):
        try:
            return score(tool.name, truth, tool.read(runs_dir / f"{tool.name}-{rep}"), mapping)
        except (FileNotFoundError, json.JSONDecodeError, KeyError) as missing:
            print(f"   {tool.name} repetition {rep}: no readable output ({missing})", flush=True)
    return score(tool.name, truth, [], mapping)


def parse_scales(text: str, repeat: int) -> list[tuple[int, int]]:
    """`"1x3,10"` -> [(1, 3), (10, repeat)]."""
    out = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        scale, _, reps = part.partition("x")
        out.append((int(scale), int(reps) if reps else repeat))
    return out


def main(argv: list[str] | None = None) -> int:
    """Parses options, installs the peers, runs every scale, prints and writes the results."""
    parser = argparse.ArgumentParser(prog="python -m bench.peers")
    parser.add_argument(
        "--scales", default="1,10", help="comma-separated scale units, each N or NxREPEATS"
    )
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per tool and scale")
    parser.add_argument("--tools", default=",".join(TOOLS), help="subset of " + ",".join(TOOLS))
    parser.add_argument("--regions", default=",".join(DEFAULT_REGIONS))
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per tool run")
    parser.add_argument("--update-results", action="store_true", help="rewrite RESULTS.md")
    parser.add_argument(
        "--ours-eol",
        type=Path,
        help="import this end-of-life file into opencwpp's lake first (measured as a step)",
    )
    parser.add_argument("--render", type=Path, help="only re-render a results.json")
    args = parser.parse_args(argv)
    if args.render:
        markdown = render(json.loads(args.render.read_text(encoding="utf-8")))
        args.render.with_suffix(".md").write_text(markdown, encoding="utf-8")
        if args.update_results:
            (HERE / "RESULTS.md").write_text(markdown, encoding="utf-8")
        print(markdown)
        return 0
    tools = [TOOLS[name] for name in args.tools.split(",") if name]
    if args.ours_eol:
        OURS_EOL.append(args.ours_eol.resolve())
    regions = tuple(r for r in args.regions.split(",") if r)
    for tool in tools:
        tool.install()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / stamp
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "generated_at": stamp,
        "machine": f"{platform.machine()}, {platform.python_version()}, {_cpus()} CPUs",
        "regions": list(regions),
        "repetitions": {str(n): r for n, r in parse_scales(args.scales, args.repeat)},
        "scales": [],
    }
    spawner = Spawner()  # before the emulator makes this process big
    with counting_moto() as (endpoint, counter):
        for scale, reps in parse_scales(args.scales, args.repeat):
            section = run_scale(
                spawner, scale, tools, reps, endpoint, counter, out, regions, args.timeout
            )
            results["scales"].append(section)
            (out / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    spawner.close()
    markdown = render(results)
    (out / "results.md").write_text(markdown, encoding="utf-8")
    print("\n" + markdown)
    if args.update_results:
        (HERE / "RESULTS.md").write_text(markdown, encoding="utf-8")
    print(f"results in {out}")
    return 0


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    sys.exit(main())
