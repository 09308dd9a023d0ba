"""EBS snapshot read speed: blocks/s with and without fetching ahead, against moto over HTTP.

A moto server runs in its own process on loopback; a snapshot of `--blocks` random 512 KiB
blocks is uploaded through the EBS direct APIs, then read sequentially (as a file copy reads
its extents) by `SnapshotReader` with `prefetch` 0 (one GetSnapshotBlock round trip per block)
and with the scan's default. Prints wall seconds, this process's CPU seconds and blocks/s.
Against AWS the round trip is longer than on loopback, so the gain there is larger.

    .venv/bin/python bench/ebs_blocks_bench.py [--blocks 128] [--runs 3] [--prefetch 0 8]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import sys
import time
from pathlib import Path

import boto3

from opencwpp.vuln.cloud.ebs_blocks import EBS_BLOCK_SIZE, SnapshotReader

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sync_bench import start_moto  # a moto server in its own process: its CPU is not ours


def _upload(ebs: object, blocks: int) -> str:
    client = ebs  # a boto3 EBS client
    sid = str(client.start_snapshot(VolumeSize=1)["SnapshotId"])  # type: ignore[attr-defined]
    for index in range(blocks):
        data = os.urandom(EBS_BLOCK_SIZE)
        checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
        client.put_snapshot_block(  # type: ignore[attr-defined]
            SnapshotId=sid,
            BlockIndex=index,
            BlockData=data,
            DataLength=EBS_BLOCK_SIZE,
            Checksum=checksum,
            ChecksumAlgorithm="SHA256",
        )
    client.complete_snapshot(SnapshotId=sid, ChangedBlocksCount=blocks)  # type: ignore[attr-defined]
    return sid


def _read(ebs: object, sid: str, blocks: int, prefetch: int) -> tuple[float, float, int]:
    start, cpu = time.perf_counter(), time.process_time()
    reader = SnapshotReader(ebs, sid, block_size=EBS_BLOCK_SIZE, prefetch=prefetch)
    reader.seek(0)
    for _ in range(blocks):  # 64 KiB reads, as a file copy does
        for _ in range(EBS_BLOCK_SIZE // 65536):
            reader.read(65536)
    reader.close()
    return time.perf_counter() - start, time.process_time() - cpu, reader.fetched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--blocks", type=int, default=128)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--prefetch", type=int, nargs="+", default=[0, 8])
    args = parser.parse_args()
    proc, url = start_moto()
    try:
        session = boto3.Session(
            aws_access_key_id="testing",  # moto's fake credentials, never real ones
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
        ebs = session.client("ebs", endpoint_url=url)
        sid = _upload(ebs, args.blocks)
        print(f"load average {os.getloadavg()[0]:.2f}; {args.blocks} blocks of 512 KiB, moto")
        best: dict[int, float] = {}
        for prefetch in args.prefetch:
            for run in range(args.runs):
                wall, cpu, fetched = _read(ebs, sid, args.blocks, prefetch)
                rate = args.blocks / wall
                best[prefetch] = max(best.get(prefetch, 0.0), rate)
                print(
                    f"prefetch={prefetch:<2} run {run + 1}: {wall:6.2f} s wall, {cpu:5.2f} s CPU, "
                    f"{fetched} fetched, {rate:7.1f} blocks/s"
                )
        base = best.get(0)
        for prefetch, rate in best.items():
            ratio = f" ({rate / base:.2f}x prefetch=0)" if base and prefetch else ""
            print(f"best prefetch={prefetch}: {rate:.1f} blocks/s{ratio}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
