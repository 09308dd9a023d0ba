"""A tiny process that starts and measures the tools (stdlib only; run with `python -I -S`).

Why a separate process: Linux charges a child, at exec, with the resident size of the address
space it was forked from, so a child forked by the benchmark (which holds the emulator and boto3,
hundreds of MiB) would report at least that much as its peak RSS. Forked from this small process
instead, a tool's ru_maxrss is its own. Protocol: one JSON request per line on stdin
(argv, env, cwd, log, timeout_s), one JSON answer per line on stdout.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any


def run(request: dict[str, Any]) -> dict[str, Any]:
    """Runs one request; returns its measurements."""
    with open(request["log"], "ab") as out:
        start = time.monotonic()
        proc = subprocess.Popen(
            request["argv"],
            cwd=request["cwd"],
            env=request["env"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        expired = threading.Event()

        def kill() -> None:
            expired.set()
            os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(request["timeout_s"], kill)
        timer.start()
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "returncode": proc.returncode,
        "timed_out": expired.is_set(),
    }


def main() -> None:
    """Serves requests until stdin closes."""
    for line in sys.stdin:
        if line.strip():
            sys.stdout.write(json.dumps(run(json.loads(line))) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
