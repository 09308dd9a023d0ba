"""Collector: sync wall time, resources/s, API calls, peak RSS and API-wait share by estate size.

For each size a moto server (its own process, on loopback) gets a fresh estate spread over two
accounts and three regions: EC2 instances, security groups with rules, EBS volumes, SQS queues and
SNS topics per region; IAM roles and S3 buckets per account. Then `cwpp sync aws` runs in a child
process (`_sync_child.py`), so wall, CPU and peak RSS are the collector's alone, and its HTTP
layer is timed: the share of wall time with no request in flight is our own overhead.

Targets (issue: AWS inventory): peak RSS under 500 MB at 50k resources, growing sub-linearly;
overhead under 20 % of wall time.

moto pages DescribeInstances by reservation, not by instance as AWS does, so with the default
500-instance reservations one page holds every instance of a region. `--reservation-size 1`
gives AWS-like pages (500 instances) at the cost of a slower estate build.

    python bench/sync_bench.py                  # 1k, 10k, 50k
    python bench/sync_bench.py --sizes 1000 5000
    python bench/sync_bench.py --sizes 50000 --reservation-size 1

Comparing variants without rebuilding (a 50k estate takes a quarter of an hour to build):

    python bench/sync_bench.py --sizes 10000 --syncs 3          # three syncs, one estate
    python bench/sync_bench.py --sizes 10000 --serve est.json   # build, keep serving
    python bench/sync_bench.py --estate est.json --syncs 2      # sync the served estate
    python bench/sync_bench.py --estate est.json --lake postgresql://127.0.0.1/test?schema=b
    python bench/sync_bench.py --estate est.json --env PYTHONPATH=/tmp/base/src  # another tree

`--serve FILE` writes the emulator's URL and the resource count to FILE once the estate is
built and serves until stopped (SIGINT or SIGTERM, which stop the emulator too); `--estate FILE`
syncs against it (code changes between runs are picked up: every sync is a new child process).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import boto3

HERE = Path(__file__).parent
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
ACCOUNTS = ("123456789012", "210987654321")
ROLE = "cwpp-bench-reader"
MIX = {"instances": 0.40, "groups": 0.15, "volumes": 0.15, "queues": 0.10, "topics": 0.05}
GLOBAL_MIX = {"roles": 0.10, "buckets": 0.05}
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:*"}
        ],
    }
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env() -> dict[str, str]:
    empty = Path(tempfile.gettempdir()) / "cwpp-bench-empty-aws-config"
    empty.write_text("")
    return {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
        "AWS_EC2_METADATA_DISABLED": "true",
        "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
    }


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    """A moto server in its own process on a free loopback port."""
    port = _free_port()
    code = "import sys; from moto.server import main; main(sys.argv[1:])"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "-H", "127.0.0.1", "-p", str(port)],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=open(Path(tempfile.gettempdir()) / "cwpp-bench-moto.log", "wb"),  # noqa: SIM115
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("moto server did not start")


def _session(url: str, account: str) -> boto3.Session:
    if account == ACCOUNTS[0]:
        return boto3.Session(region_name=REGIONS[0])
    sts = boto3.client("sts", endpoint_url=url, region_name=REGIONS[0])
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{ROLE}", RoleSessionName="bench")[
        "Credentials"
    ]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGIONS[0],
    )


def _regional(
    session: boto3.Session,
    url: str,
    region: str,
    count: dict[str, int],
    tag: str,
    reservation: int = 500,
) -> int:
    ec2 = session.client("ec2", endpoint_url=url, region_name=region)
    sqs = session.client("sqs", endpoint_url=url, region_name=region)
    sns = session.client("sns", endpoint_url=url, region_name=region)
    made = 0
    left = count["instances"]
    while left > 0:
        batch = min(left, reservation)
        ec2.run_instances(ImageId="ami-12345678", MinCount=batch, MaxCount=batch)
        left -= batch
        made += batch
    for i in range(count["groups"]):
        gid = ec2.create_security_group(GroupName=f"sg-{tag}-{i}", Description="bench")["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=gid,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 22 + i % 3000,
                    "ToPort": 22 + i % 3000,
                    "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
                }
            ],
        )
    for i in range(count["volumes"]):
        ec2.create_volume(AvailabilityZone=f"{region}a", Size=8, Encrypted=i % 2 == 0)
    for i in range(count["queues"]):
        sqs.create_queue(QueueName=f"q-{tag}-{i}")
    for i in range(count["topics"]):
        sns.create_topic(Name=f"t-{tag}-{i}")
    return made + count["groups"] + count["volumes"] + count["queues"] + count["topics"]


def _global(session: boto3.Session, url: str, count: dict[str, int], tag: str) -> int:
    iam = session.client("iam", endpoint_url=url)
    s3 = session.client("s3", endpoint_url=url, region_name=REGIONS[0])
    for i in range(count["roles"]):
        iam.create_role(RoleName=f"role-{tag}-{i}", AssumeRolePolicyDocument=TRUST)
    for i in range(count["buckets"]):
        s3.create_bucket(Bucket=f"bench-{tag}-{i}")
    return count["roles"] + count["buckets"]


def build_estate(url: str, size: int, reservation: int = 500) -> int:
    """About `size` resources over ACCOUNTS x REGIONS; returns how many were made.

    `reservation` is how many instances each RunInstances call (one reservation) starts.
    """
    per_scope = {k: round(size * v / (len(ACCOUNTS) * len(REGIONS))) for k, v in MIX.items()}
    per_account = {k: round(size * v / len(ACCOUNTS)) for k, v in GLOBAL_MIX.items()}
    jobs: list[Callable[[], int]] = []
    for account in ACCOUNTS:
        session = _session(url, account)
        jobs.append(partial(_global, session, url, per_account, account))
        for region in REGIONS:
            tag = f"{account}-{region}"
            jobs.append(partial(_regional, session, url, region, per_scope, tag, reservation))
    # One at a time: moto is not safe under concurrent writes ("dictionary changed size").
    with ThreadPoolExecutor(max_workers=1) as pool:
        return sum(pool.map(lambda job: job(), jobs))


def run_sync(url: str, lake: str, extra_env: dict[str, str] | None = None) -> dict[str, Any]:
    """`cwpp sync aws` over both accounts in a child process; wall, CPU, RSS and API figures."""
    stats = Path(tempfile.mkstemp(suffix=".json")[1])
    args = [
        "sync",
        "aws",
        "--endpoint-url",
        url,
        "--regions",
        ",".join(REGIONS),
        "--accounts",
        ",".join(ACCOUNTS),
        "--org-role",
        ROLE,
        "--lake",
        lake,
    ]
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "_sync_child.py"), str(stats), *args],
        env={**_env(), **(extra_env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    figures = json.loads(stats.read_text() or "{}")
    stats.unlink()
    return {
        "exit": os.waitstatus_to_exitcode(status),
        "stderr": err.strip().splitlines()[-3:],
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,
        **figures,
    }


def _print_row(made: int, built: float | None, result: dict[str, Any]) -> None:
    wall = result["wall"]
    inner = result.get("sync_wall") or wall
    wait = result.get("api_wait", 0.0)
    shown = f"{built:>8.1f}" if built is not None else f"{'-':>8}"
    print(
        f"{made:>9} {shown} {wall:>7.1f} {made / wall:>7.0f} {result.get('calls', 0):>6} "
        f"{result['cpu']:>6.1f} {result['rss_mb']:>8.0f} {wait / inner:>8.0%} "
        f"{1 - wait / inner:>8.0%}  {result['exit']}",
        flush=True,
    )
    if result["exit"] != 0:
        print("   ", *result["stderr"], sep="\n    ")


def _syncs(
    url: str, made: int, built: float | None, count: int, lake: str | None, env: dict[str, str]
) -> None:
    """`count` syncs of one estate, each into a fresh lake (or into `lake` when given)."""
    for _ in range(count):
        if lake is not None:
            _print_row(made, built, run_sync(url, lake, env))
        else:
            with tempfile.TemporaryDirectory() as tmp:
                _print_row(made, built, run_sync(url, f"duckdb:///{tmp}/lake.duckdb", env))
        built = None


def main() -> int:
    """Runs each size on a fresh emulator and prints one row per sync."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument(
        "--reservation-size",
        type=int,
        default=500,
        help="instances per RunInstances call (moto pages DescribeInstances by reservation)",
    )
    parser.add_argument("--syncs", type=int, default=1, help="syncs per estate (default 1)")
    parser.add_argument("--lake", help="sync into this lake URL instead of a fresh DuckDB file")
    parser.add_argument("--serve", type=Path, help="build one estate, write FILE, serve it")
    parser.add_argument("--estate", type=Path, help="sync the estate a --serve run described")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set in the sync's environment (a variant, e.g. MALLOC_ARENA_MAX=2); repeatable",
    )
    args = parser.parse_args()
    extra = dict(item.partition("=")[::2] for item in args.env)
    os.environ.update(_env())
    header = (
        f"{'resources':>9} {'build s':>8} {'sync s':>7} {'res/s':>7} {'calls':>6} "
        f"{'cpu s':>6} {'peak MB':>8} {'api wait':>8} {'overhead':>8}  exit"
    )
    if args.estate is not None:
        estate = json.loads(args.estate.read_text())
        print(header)
        _syncs(estate["url"], int(estate["made"]), None, args.syncs, args.lake, extra)
        return 0
    if args.serve is not None:
        # A background job ignores SIGINT: SIGTERM too stops the emulator with this process.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        proc, url = start_moto()
        try:
            started = time.perf_counter()
            made = build_estate(url, args.sizes[0], args.reservation_size)
            built = time.perf_counter() - started
            args.serve.write_text(json.dumps({"url": url, "made": made, "build_s": built}))
            print(f"{made} resources built in {built:.0f} s, serving {url}", flush=True)
            proc.wait()
        finally:
            proc.terminate()
            proc.wait()
        return 0
    print(header)
    for size in args.sizes:
        proc, url = start_moto()
        try:
            started = time.perf_counter()
            made = build_estate(url, size, args.reservation_size)
            built = time.perf_counter() - started
            _syncs(url, made, built, args.syncs, args.lake, extra)
        finally:
            proc.terminate()
            proc.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
