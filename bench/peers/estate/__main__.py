"""`python -m bench.peers.estate --scale N --truth FILE [--serve]`: build an estate by hand.

Without `--endpoint` it starts its own counting moto server on loopback; `--serve` keeps it
running (Ctrl-C to stop) so that any tool can be pointed at it while you look.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from bench.peers.emulator import counting_moto
from bench.peers.estate import DEFAULT_REGIONS, build


def main(argv: list[str] | None = None) -> int:
    """Parses arguments, builds the estate, writes the ground truth."""
    parser = argparse.ArgumentParser(prog="python -m bench.peers.estate")
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--truth", type=Path, default=Path("bench/peers/results/truth.json"))
    parser.add_argument("--regions", default=",".join(DEFAULT_REGIONS))
    parser.add_argument("--endpoint", help="an emulator already running on loopback")
    parser.add_argument("--serve", action="store_true", help="keep the emulator running")
    args = parser.parse_args(argv)
    regions = tuple(r for r in args.regions.split(",") if r)
    args.truth.parent.mkdir(parents=True, exist_ok=True)
    if args.endpoint:
        build(args.endpoint, args.scale, regions).save(args.truth)
        return 0
    with counting_moto() as (endpoint, counter):
        truth = build(endpoint, args.scale, regions)
        truth.save(args.truth)
        counter.take()
        print(
            f"{truth.resource_count} resources, {len(truth.defects)} defects, "
            f"{len(truth.near_misses)} near-misses; truth in {args.truth}",
            flush=True,
        )
        if args.serve:
            print(f"serving at {endpoint}", flush=True)
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            try:
                while True:
                    time.sleep(5)
            except KeyboardInterrupt:
                pass
            print(f"calls: {counter.take()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
