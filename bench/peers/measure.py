"""Runs one tool step as a child process and measures it from the outside (via `_spawner.py`).

Wall time is monotonic time from spawn to reap. CPU time (user + system) and peak RSS come from
`os.wait4`'s rusage of the child: on Linux that covers the child and every descendant it waited
for, and ru_maxrss is the largest resident set of any single one of those processes (not the sum
of processes alive at the same time).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Measure:
    """What one child process cost."""

    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    returncode: int
    timed_out: bool = False

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def combine(parts: list[Measure]) -> Measure:
    """Steps run one after the other: wall and CPU add up, the peak is the largest peak."""
    return Measure(
        wall_s=sum(p.wall_s for p in parts),
        cpu_s=sum(p.cpu_s for p in parts),
        peak_rss_mib=max((p.peak_rss_mib for p in parts), default=0.0),
        returncode=next((p.returncode for p in parts if p.returncode), 0),
        timed_out=any(p.timed_out for p in parts),
    )


class Spawner:
    """Starts tools from a small helper process (see `_spawner.py`) and measures them there.

    Start it before the benchmark grows (before the emulator and boto3 are loaded).
    """

    def __init__(self) -> None:
        helper = Path(__file__).with_name("_spawner.py")
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-S", str(helper)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(
        self, argv: list[str], env: dict[str, str], cwd: Path, log: Path, timeout_s: float
    ) -> Measure:
        """Runs `argv` (output appended to `log`), killed after `timeout_s`; measures it."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        request = {
            "argv": argv,
            "env": env,
            "cwd": str(cwd),
            "log": str(log),
            "timeout_s": timeout_s,
        }
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        answer = json.loads(self._proc.stdout.readline())
        return Measure(**answer)

    def close(self) -> None:
        """Stops the helper."""
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait(timeout=30)
