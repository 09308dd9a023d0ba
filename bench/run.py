"""Runs every benchmark under bench/ (`*_bench.py`) in turn; each prints its own figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main() -> int:
    """Runs the benchmarks given as arguments (names), or all of them."""
    wanted = set(sys.argv[1:])
    failed = 0
    for script in sorted(HERE.glob("*_bench.py")):
        if wanted and script.stem.removesuffix("_bench") not in wanted:
            continue
        print(f"\n=== {script.name} ===", flush=True)
        failed += subprocess.call([sys.executable, str(script)]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
