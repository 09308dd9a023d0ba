"""Extraction benchmark: time, throughput and peak RSS to inventory typical image tarballs.

Builds a Debian 12 and an Alpine 3.19 application image offline (`bench/vuln_images.py`:
`docker save` layout, five layers with whiteouts, OS packages plus Python and npm packages,
thousands of files), then inventories each one in a fresh process per run and prints the
packages found against what the image holds, seconds, MB/s and peak RSS.

    .venv/bin/python bench/vuln_extract_bench.py [--runs 3] [--work DIR] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from vuln_images import Image, build


def _peak_rss_mb() -> float:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the parent.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return 0.0


def child(path: Path) -> None:
    """One inventory in this (fresh) process: prints its figures as JSON."""
    from opencwpp.vuln.inventory import inventory

    t0, c0 = time.perf_counter(), time.process_time()
    inv = inventory(path)
    took, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        json.dumps(
            {
                "seconds": took,
                "cpu_seconds": cpu,
                "packages": dict(Counter(p.ecosystem for p in inv.packages)),
                "problems": inv.problems,
                "peak_rss_mb": _peak_rss_mb(),
            }
        )
    )


def measure(image: Image, runs: int) -> dict[str, object]:
    """`runs` inventories of one image, each in its own process."""
    results = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(image.path)],
            check=True,
            capture_output=True,
            text=True,
        )
        results.append(json.loads(out.stdout))
    seconds = sorted(r["seconds"] for r in results)
    found = results[-1]["packages"]
    return {
        "image": image.name,
        "megabytes": image.megabytes,
        "files": image.files,
        "layers": image.layers,
        "expected": dict(image.expected),
        "found": found,
        "problems": results[-1]["problems"],
        "seconds_min": seconds[0],
        "seconds_median": seconds[len(seconds) // 2],
        "seconds_first": results[0]["seconds"],
        "cpu_seconds_median": sorted(r["cpu_seconds"] for r in results)[len(results) // 2],
        "mb_per_s": image.megabytes / seconds[len(seconds) // 2],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
    }


def report(fig: dict[str, object]) -> str:
    """One human-readable block per image."""
    expected, found = fig["expected"], fig["found"]
    assert isinstance(expected, dict) and isinstance(found, dict)
    lines = [
        f"{fig['image']}: {fig['megabytes']:.0f} MB, {fig['files']} files, {fig['layers']} layers",
        "  packages found / in the image: "
        + ", ".join(
            f"{eco} {found.get(eco, 0)}/{expected.get(eco, '-')}"
            for eco in sorted(set(expected) | set(found))
        ),
        f"  inventory: median {fig['seconds_median']:.2f} s (min {fig['seconds_min']:.2f} s, "
        f"first {fig['seconds_first']:.2f} s; CPU {fig['cpu_seconds_median']:.2f} s), "
        f"{fig['mb_per_s']:.0f} MB/s, "
        f"peak RSS {fig['peak_rss_mb']:.0f} MB",
    ]
    if fig["problems"]:
        lines.append(f"  problems: {fig['problems']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, help="build the images here and keep them")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    with tempfile.TemporaryDirectory(prefix="cwpp-bench-") as tmp:
        work = args.work or Path(tmp)
        t0 = time.perf_counter()
        images = build(work)
        print(f"built {len(images)} images in {time.perf_counter() - t0:.1f} s under {work}")
        figures = []
        for image in images:
            fig = measure(image, args.runs)
            figures.append(fig)
            print(report(fig))
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
