"""Renders the comparison as Markdown: figures and ratios per scale, recall/FP, disagreements."""

from __future__ import annotations

import statistics
from typing import Any

from bench.peers.truth import PILLARS

OURS = "opencwpp"


def _median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else 0.0


def summarise_runs(runs: list[dict[str, Any]]) -> dict[str, float]:
    """Median wall/CPU/API calls and the largest peak RSS over a tool's repetitions."""
    return {
        "wall_s": _median([r["measure"]["wall_s"] for r in runs]),
        "wall_min_s": min(r["measure"]["wall_s"] for r in runs),
        "wall_max_s": max(r["measure"]["wall_s"] for r in runs),
        "cpu_s": _median([r["measure"]["cpu_s"] for r in runs]),
        "peak_rss_mib": max(r["measure"]["peak_rss_mib"] for r in runs),
        "api_calls": _median([r["calls"]["total"] for r in runs]),
        "api_errors": _median(
            [sum(v for k, v in r["calls"]["by_status"].items() if k[0] in "45") for r in runs]
        ),
        "reps": len(runs),
    }


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f} %"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "n/a"


def figures_table(scale: dict[str, Any]) -> list[str]:
    """Wall, CPU, peak RSS and API calls per tool, and the ratios ours / peer."""
    tools = scale["tools"]
    lines = [
        "| tool | wall s (median, min-max) | CPU s | peak RSS MiB | API calls (4xx/5xx) |",
        "|---|---|---|---|---|",
    ]
    for name, t in tools.items():
        s = t["summary"]
        lines.append(
            f"| {name} | {s['wall_s']:.1f} ({s['wall_min_s']:.1f}-{s['wall_max_s']:.1f}) "
            f"| {s['cpu_s']:.1f} | {s['peak_rss_mib']:.0f} | {s['api_calls']:.0f} "
            f"({s['api_errors']:.0f}) |"
        )
    if OURS in tools:
        ours = tools[OURS]["summary"]
        lines += [
            "",
            "| ours / peer | wall | CPU | peak RSS | API calls |",
            "|---|---|---|---|---|",
        ]
        for name, t in tools.items():
            if name == OURS:
                continue
            s = t["summary"]
            lines.append(
                f"| ours / {name} | {_ratio(ours['wall_s'], s['wall_s'])} "
                f"| {_ratio(ours['cpu_s'], s['cpu_s'])} "
                f"| {_ratio(ours['peak_rss_mib'], s['peak_rss_mib'])} "
                f"| {_ratio(ours['api_calls'], s['api_calls'])} |"
            )
    return lines


def accuracy_table(scale: dict[str, Any]) -> list[str]:
    """Recall on planted defects and false positives on near-misses, per pillar and tool."""
    tools = scale["tools"]
    head = "| pillar | " + " | ".join(f"{n} recall | {n} FP" for n in tools) + " |"
    lines = [head, "|---|" + "---|---|" * len(tools)]
    for pillar in (*PILLARS, "all"):
        cells = []
        for t in tools.values():
            p = t["score"][pillar]
            cells.append(
                f"{_pct(p['recall'])} ({p['found']}/{p['defects']}) "
                f"| {p['false_positives']}/{p['near_misses']}"
            )
        lines.append(f"| {pillar} | " + " | ".join(cells) + " |")
    return lines


def kinds_table(scale: dict[str, Any]) -> list[str]:
    """Found / planted and false positives per defect kind and tool."""
    tools = scale["tools"]
    lines = [
        "| kind | pillar | " + " | ".join(tools) + " |",
        "|---|---|" + "---|" * len(tools),
    ]
    kinds = scale["kinds"]
    for kind in sorted(kinds):
        pillar = kinds[kind]
        cells = []
        for t in tools.values():
            k = t["by_kind"].get(kind, {"found": 0, "defects": 0, "fp": 0, "near": 0})
            cell = f"{k['found']}/{k['defects']}"
            if k["fp"]:
                cell += f" **FP {k['fp']}/{k['near']}**"
            cells.append(cell)
        lines.append(f"| {kind} | {pillar} | " + " | ".join(cells) + " |")
    return lines


def disagreement_table(scale: dict[str, Any]) -> list[str]:
    """Every entry the tools disagree on, grouped by kind (count and one example)."""
    groups: dict[tuple[str, bool, str, str], list[str]] = {}
    for d in scale["disagreements"]:
        key = (d["kind"], d["planted"], ",".join(d["flagged_by"]), ",".join(d["passed_by"]))
        groups.setdefault(key, []).append(d["resource"])
    lines = [
        "| kind | truth | flagged by | passed by | right | count | e.g. |",
        "|---|---|---|---|---|---|---|",
    ]
    for (kind, planted, flagged, passed), resources in sorted(groups.items()):
        right = flagged if planted else passed
        lines.append(
            f"| {kind} | {'defect' if planted else 'near-miss'} | {flagged} | {passed} "
            f"| {right} | {len(resources)} | {resources[0]} |"
        )
    return lines


def targets(scale: dict[str, Any]) -> list[str]:
    """The issue's targets, checked on this scale's figures (ours vs each peer)."""
    tools = scale["tools"]
    if OURS not in tools or not {"prowler", "scoutsuite"} <= set(tools):
        return []
    ours, pro, sco = (tools[n]["summary"] for n in (OURS, "prowler", "scoutsuite"))
    recall = {n: t["score"]["all"]["recall"] or 0.0 for n, t in tools.items()}
    fps = tools[OURS]["score"]["all"]["false_positives"]

    def mark(ok: bool) -> str:
        return "met" if ok else "NOT met"

    best = recall[OURS] > max(recall["prowler"], recall["scoutsuite"])
    speedup = pro["wall_s"] / ours["wall_s"] if ours["wall_s"] else 0.0
    memory = ours["peak_rss_mib"] / pro["peak_rss_mib"] if pro["peak_rss_mib"] else 0.0
    return [
        f"- faster than ScoutSuite (wall): {mark(ours['wall_s'] < sco['wall_s'])} "
        f"({ours['wall_s']:.0f} s vs {sco['wall_s']:.0f} s)",
        f"- at least 5x faster than Prowler (wall): {mark(speedup >= 5)} ({speedup:.1f}x)",
        f"- at most a quarter of Prowler's peak memory: {mark(memory <= 0.25)} ({memory:.2f})",
        f"- higher recall than both: {mark(best)}"
        f" ({_pct(recall[OURS])} vs {_pct(recall['prowler'])} and {_pct(recall['scoutsuite'])})",
        f"- no false positive on the near-misses: {mark(fps == 0)} ({fps})",
    ]


def render(results: dict[str, Any]) -> str:
    """The whole comparison as Markdown."""
    out = [
        "# opencwpp vs Prowler vs ScoutSuite on one emulated estate",
        "",
        f"Generated {results['generated_at']} on {results['machine']}; regions "
        f"{', '.join(results['regions'])}; repetitions per scale: {results['repetitions']}.",
        "Wall: median (min-max). CPU: median user+system. Peak RSS: largest ru_maxrss of any "
        "single process of the run (wait4). API calls: requests counted at the emulator.",
    ]
    for scale in results["scales"]:
        out += [
            "",
            f"## N = {scale['scale']}: {scale['resources']} resources, "
            f"{scale['defects']} planted defects, {scale['near_misses']} near-misses",
            "",
            *figures_table(scale),
            "",
            "Targets (issue 9):",
            "",
            *targets(scale),
            "",
            "### Recall and false positives per pillar",
            "",
            *accuracy_table(scale),
            "",
            "### Per defect kind (found/planted; FP = near-misses flagged)",
            "",
            *kinds_table(scale),
            "",
            "### Disagreements",
            "",
            *disagreement_table(scale),
        ]
    return "\n".join(out) + "\n"
