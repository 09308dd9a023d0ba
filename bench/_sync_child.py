"""Runs `cwpp sync aws ARGS…` in this process with the AWS HTTP layer timed; writes stats as JSON.

The sync benchmark starts this as a child process, so its wall time, CPU time and peak RSS are
the collector's alone (the emulator runs in another process). Every HTTP attempt botocore sends
is counted, and the union of the intervals during which at least one request was in flight is
the time the sync spent waiting on the API; the rest of the wall time is our own overhead.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

from botocore.endpoint import Endpoint


class ApiClock:
    """Counts requests and measures the time at least one of them was in flight."""

    def __init__(self) -> None:
        self.calls = 0
        self.waiting = 0.0
        self._in_flight = 0
        self._since = 0.0
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            self.calls += 1
            if self._in_flight == 0:
                self._since = time.perf_counter()
            self._in_flight += 1

    def stop(self) -> None:
        with self._lock:
            self._in_flight -= 1
            if self._in_flight == 0:
                self.waiting += time.perf_counter() - self._since


def main() -> int:
    """`_sync_child.py STATS_FILE cwpp-args…`."""
    stats_file, args = Path(sys.argv[1]), sys.argv[2:]
    clock = ApiClock()
    original = Endpoint._send

    def timed_send(self: Endpoint, request: Any) -> Any:
        clock.start()
        try:
            return original(self, request)
        finally:
            clock.stop()

    Endpoint._send = timed_send
    from opencwpp.cli import main as cwpp_main

    sys.argv = ["cwpp", *args]
    started = time.perf_counter()
    code = 0
    try:
        cwpp_main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    wall = time.perf_counter() - started
    stats_file.write_text(
        json.dumps({"calls": clock.calls, "api_wait": clock.waiting, "sync_wall": wall})
    )
    return code


if __name__ == "__main__":
    sys.exit(main())
