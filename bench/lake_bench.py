"""Lake and check engine: write throughput and full assessment time, DuckDB beside PostgreSQL.

A synthetic estate shaped like the collector's rows (buckets with grants and policies, users with
keys, security groups with rules) is written with `replace_scope`, then every built-in check runs
over it. Prints rows/s, seconds, the PostgreSQL/DuckDB ratio and peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from opencwpp.assess import assess, select_checks
from opencwpp.collect.aws.policies import split_policy
from opencwpp.collect.base import all_tables
from opencwpp.lake import Lake, Scope, Table

ACCOUNT = "000000000000"
PG = "postgresql://postgres@127.0.0.1:5432/test"


def estate(n: int) -> dict[str, list[dict[str, Any]]]:
    """Rows per table for `n` buckets, `n` users and `n` security groups."""
    now = datetime.now(UTC)
    rows: dict[str, list[dict[str, Any]]] = {}

    def add(name: str, row: dict[str, Any]) -> None:
        rows.setdefault(name, []).append({"account_id": ACCOUNT, **row})

    for i in range(n):
        arn = f"arn:aws:s3:::bucket-{i}"
        add(
            "aws_s3_buckets",
            {
                "arn": arn,
                "name": f"bucket-{i}",
                "region": "us-east-1",
                "tags": {"team": f"t{i % 7}"},
            },
        )
        add(
            "aws_s3_bucket_grants",
            {
                "bucket_arn": arn,
                "grantee_type": "Group" if i % 50 == 0 else "CanonicalUser",
                "grantee_id": "x" if i % 50 else "http://acs.amazonaws.com/groups/global/AllUsers",
                "permission": "READ",
            },
        )
        doc = {
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [arn, f"{arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ]
        }
        add("aws_s3_bucket_policies", {"bucket_arn": arn, "policy_json": doc})
        for tbl, srows in split_policy(
            doc, account_id=ACCOUNT, source_table="aws_s3_bucket_policies", source_arn=arn
        ).items():
            rows.setdefault(tbl.name, []).extend(srows)
        user = f"arn:aws:iam::{ACCOUNT}:user/u{i}"
        add("aws_iam_users", {"arn": user, "user_name": f"u{i}", "create_date": now})
        add(
            "aws_iam_user_access_keys",
            {
                "user_arn": user,
                "access_key_id": f"AKIA{i:016d}",
                "status": "Active",
                "create_date": now - timedelta(days=i % 200),
            },
        )
        sg = f"arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/sg-{i}"
        add(
            "aws_ec2_security_groups",
            {"arn": sg, "group_id": f"sg-{i}", "group_name": f"g{i}", "region": "us-east-1"},
        )
        add(
            "cwpp_aws_ec2_security_group_rules",
            {
                "group_arn": sg,
                "group_id": f"sg-{i}",
                "region": "us-east-1",
                "direction": "ingress",
                "ip_protocol": "tcp",
                "from_port": 22,
                "to_port": 22,
                "cidr_ipv4": "0.0.0.0/0" if i % 10 == 0 else "10.0.0.0/8",
            },
        )
    return rows


def run(
    url: str, data: dict[str, list[dict[str, Any]]], catalog: dict[str, Table]
) -> dict[str, float]:
    """Writes the estate, assesses it; returns seconds per phase and rows written."""
    with Lake.open(url) as lake:
        started = time.perf_counter()
        tables = {catalog[name]: [dict(r) for r in rows] for name, rows in data.items()}
        written = sum(lake.replace_scope(Scope(ACCOUNT), tables).values())
        wrote = time.perf_counter() - started
        started = time.perf_counter()
        result = assess(lake, select_checks())
        assessed = time.perf_counter() - started
    return {
        "rows": written,
        "write_s": wrote,
        "assess_s": assessed,
        "findings": len(result.findings),
    }


def main() -> None:
    """Prints the figures for each backend side by side."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resources", type=int, default=5000, help="buckets = users = SGs")
    args = parser.parse_args()
    data, catalog = estate(args.resources), all_tables()
    schema = f"cwpp_bench_{uuid.uuid4().hex[:8]}"
    results = {"duckdb": run("duckdb:///:memory:", data, catalog)}
    try:
        results["postgres"] = run(f"{PG}?schema={schema}", data, catalog)
    finally:
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    print(
        f"estate: {args.resources} buckets, users and security groups; "
        f"{len(select_checks())} checks"
    )
    print(
        f"{'backend':<10}{'rows':>9}{'write s':>10}{'rows/s':>11}{'assess s':>10}{'findings':>10}"
    )
    for name, r in results.items():
        print(
            f"{name:<10}{r['rows']:>9.0f}{r['write_s']:>10.2f}{r['rows'] / r['write_s']:>11.0f}"
            f"{r['assess_s']:>10.2f}{r['findings']:>10.0f}"
        )
    if "postgres" in results:
        d, p = results["duckdb"], results["postgres"]
        print(
            f"postgres/duckdb: write x{p['write_s'] / d['write_s']:.2f}, "
            f"assess x{p['assess_s'] / d['assess_s']:.2f}"
        )
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
