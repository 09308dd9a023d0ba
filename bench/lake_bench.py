"""Lake and check engine: write throughput and full assessment time, DuckDB beside PostgreSQL.

A synthetic estate shaped like the collector's rows (buckets with grants and policies, users with
keys, security groups with rules) is written with `replace_scope`, then every built-in check runs
over it. Prints rows/s, seconds, the PostgreSQL/DuckDB ratio and peak RSS.

`templates`, `plan` and `expand` build a larger, realistic estate from every check's cases for
`assess_bench.py`.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import sys
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import sqlglot
from sqlglot import exp

from opencwpp.assess import assess, select_checks
from opencwpp.collect.aws.policies import split_policy
from opencwpp.collect.base import all_tables
from opencwpp.lake import Lake, Scope, Table
from opencwpp.lake.schema import TIMESTAMP

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


# ---------------------------------------------------------------------------------------------
# A realistic estate of any size, built from the checks' own cases.
#
# Every check's cases hold lake rows shaped like the collector's (both outcomes, near misses).
# Each case is a template: its identifiers (names, ids, ARNs that hold no other identifier) get
# a per-copy suffix, its UUIDs a per-copy prefix, its accounts map onto a pool, so copies never
# join with each other. Values a check's SQL names (`'default'`, AWS-managed ARNs, …) stay as
# they are. Copies are drawn per resource type in the shares of RESOURCE_MIX.

# Share of the estate's resources per resource type (account-level checks: one copy per account).
RESOURCE_MIX = {
    "AwsEc2Instance": 10,
    "AwsEc2Volume": 12,
    "AwsEc2Snapshot": 12,
    "AwsEc2SecurityGroup": 6,
    "AwsEc2NetworkInterface": 5,
    "AwsEc2Image": 2,
    "AwsEc2Subnet": 1,
    "AwsEc2LaunchTemplate": 1,
    "AwsIamRole": 6,
    "AwsIamPolicy": 5,
    "AwsIamUser": 3,
    "AwsS3Bucket": 5,
    "AwsLambdaFunction": 5,
    "AwsRdsDbInstance": 1.5,
    "AwsRdsDbSnapshot": 2,
    "AwsKmsKey": 2,
    "AwsSqsQueue": 2,
    "AwsSnsTopic": 2,
    "AwsDynamoDbTable": 1.5,
    "AwsSecretsManagerSecret": 1.5,
    "AwsRdsDbClusterSnapshot": 1,
    "AwsEcrRepository": 1,
    "AwsEcsTaskDefinition": 2,
    "AwsAutoScalingAutoScalingGroup": 0.5,
    "AwsAutoScalingLaunchConfiguration": 0.5,
}
OTHER_SHARE = 0.3  # every other resource type
ACCOUNT_TYPES = ("AwsAccount", "AzureSubscription")
_IDENTITY = re.compile(r"(^|_)(arn|name|id|identifier|user)$")
_NOT_IDENTITY = frozenset(
    {
        "account_id",
        "request_account_id",
        "master_account_id",
        "owner_id",
        "subscription_id",
        "tenant_id",
        "table_name",
        "key",
        "parameter_name",
        "condition_key",
        "service_name",
        "route_key",
        "ssl_policy_name",
        "container_user",
        "display_name",
        "grantee_id",
        "domain_name",
        "source_table",
    }
)
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_ACCOUNT = r"(?<![0-9])[0-9]{12}(?![0-9])"
_RELATIVE = re.compile(r"^@now(?:([+-])(\d+)([dhm]))?$")


def _sql_literals() -> tuple[set[str], list[re.Pattern[str]]]:
    """String literals of every check and view (kept verbatim), and LIKE patterns as regexes."""
    from opencwpp.checks import builtin_checks
    from opencwpp.checks.views import builtin_views

    values: set[str] = set()
    likes: list[re.Pattern[str]] = []
    sources = [c.sql for c in builtin_checks()] + [v.sql for v in builtin_views()]
    for sql in sources:
        tree = sqlglot.parse_one(sql, read="duckdb")
        for lit in tree.find_all(exp.Literal):
            if lit.is_string:
                values.add(lit.this)
        for node in tree.find_all(exp.Like, exp.ILike):
            pattern = node.expression
            if isinstance(pattern, exp.Literal) and ("%" in pattern.this or "_" in pattern.this):
                body = "".join(
                    ".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern.this
                )
                likes.append(re.compile(body, re.S | re.I))
    return values, likes


def _when(value: Any, now: datetime) -> Any:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day, tzinfo=UTC)
    elif isinstance(value, str) and (match := _RELATIVE.match(value)):
        sign, amount, unit = match.groups()
        delta = timedelta(**{_UNITS[unit]: int(amount)}) if sign else timedelta()
        moment = now + delta if sign == "+" else now - delta
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    else:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat()


_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


@dataclass
class Template:
    """One case as format strings per table, with the slots a copy fills."""

    check_id: str
    resource_type: str
    resources: int  # rows in aws_* / azure_* tables
    lines: dict[str, str]  # table -> NDJSON format string
    tokens: list[tuple[str, str, bool]]  # slot, format (may hold account slots), suffixed?
    uuids: list[tuple[str, str]]  # slot -> tail of the original UUID
    accounts: list[str]  # account slots, in order


def _affix(value: str, likes: list[re.Pattern[str]]) -> bool | None:
    """True to suffix a copy number, False to prefix it, None to keep the value: whichever
    keeps every LIKE pattern of the checks that matched the value matching it."""
    matched = [p for p in likes if p.fullmatch(value)]
    for suffix, changed in ((True, value + "-s0"), (False, "s0-" + value)):
        if all(p.fullmatch(changed) for p in matched):
            return suffix
    return None


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def compile_case(check: Any, case: Any, catalog: dict[str, Table], keep: Any) -> Template:
    """Turns one case into a template (see above)."""
    literals, likes = keep
    now = datetime.now(UTC)
    protected = literals.__contains__
    candidates: set[str] = set()
    lines: dict[str, list[str]] = {}
    for name, rows in case.tables.items():
        tbl = catalog[name]
        for row in rows or []:
            out = {
                k: _when(v, now) if tbl.column_type(k) == TIMESTAMP else v for k, v in row.items()
            }
            lines.setdefault(name, []).append(json.dumps(out, default=str, sort_keys=True))
            for key, value in row.items():
                if (
                    isinstance(value, str)
                    and _IDENTITY.search(key)
                    and key not in _NOT_IDENTITY
                    and re.search("[A-Za-z0-9]", value)
                    and not protected(value)
                    and not re.fullmatch(_UUID, value)
                    and not re.fullmatch(r"[0-9]{12}", value)
                    and '"' not in value
                    and "\\" not in value
                ):
                    candidates.add(value)
    bounded = {
        t: re.compile(rf"(?<![A-Za-z0-9_-]){re.escape(t)}(?![A-Za-z0-9_-])") for t in candidates
    }
    # An identifier holding another (an ARN holding a name) is rebuilt from the inner one.
    tokens = sorted(
        (t for t in candidates if not any(o != t and bounded[o].search(t) for o in candidates)),
        key=len,
        reverse=True,
    )
    alternatives = [rf"(?<![A-Za-z0-9_-]){re.escape(t)}(?![A-Za-z0-9_-])" for t in tokens]
    inner = re.compile(f"(?P<u>{_UUID})|(?P<a>{_ACCOUNT})")
    scan = re.compile("|".join([inner.pattern, *[f"({a})" for a in alternatives]]))
    slots: dict[str, str] = {}
    accounts: list[str] = []
    uuids: list[tuple[str, str]] = []

    def account_slot(value: str) -> str:
        if value in literals:
            return value
        if value not in slots:
            slots[value] = f"a{len(accounts)}"
            accounts.append(slots[value])
        return "{" + slots[value] + "}"

    def fill(text: str, with_tokens: bool = True) -> str:
        out, last = [], 0
        for m in (scan if with_tokens else inner).finditer(text):
            out.append(_escape(text[last : m.start()]))
            value = m.group(0)
            if m.group("u"):
                if value in literals:
                    out.append(value)
                else:
                    if value not in slots:
                        slots[value] = f"u{len(uuids)}"
                        uuids.append((slots[value], value[13:]))
                    out.append("{" + slots[value] + "}")
            elif m.group("a"):
                out.append(account_slot(value))
            elif (
                with_tokens
                and "{u" not in (inner_format := fill(value, with_tokens=False))
                and (style := _affix(value, likes)) is not None
            ):
                # (an identifier holding a UUID is unique by it: no copy number)
                if value not in slots:
                    slots[value] = f"t{len(token_formats)}"
                    token_formats.append((slots[value], inner_format, style))
                out.append("{" + slots[value] + "}")
            else:
                out.append(fill(value, with_tokens=False))
            last = m.end()
        out.append(_escape(text[last:]))
        return "".join(out)

    token_formats: list[tuple[str, str, bool]] = []
    formats = {name: fill("\n".join(rows) + "\n") for name, rows in lines.items()}
    resources = sum(len(r) for n, r in lines.items() if not n.startswith("cwpp_"))
    return Template(
        check.id, check.meta.resource_type, resources, formats, token_formats, uuids, accounts
    )


def templates() -> list[Template]:
    """Every case of every built-in check, compiled (a check whose cases do not load is left
    out, named on stderr)."""
    from opencwpp.catalog import lake_tables
    from opencwpp.checks import builtin_checks
    from opencwpp.checks.cases import load_cases, relative_text
    from opencwpp.core.errors import CheckDefinitionError

    catalog, keep = lake_tables(), _sql_literals()
    now = datetime.now(UTC)
    out = []
    for check in builtin_checks():
        try:
            # `@now-200d` inside text and JSON values too, as the cases runner reads them.
            cases = [
                replace(case, tables=relative_text(case.tables, now)) for case in load_cases(check)
            ]
            out += [compile_case(check, case, catalog, keep) for case in cases]
        except (CheckDefinitionError, KeyError) as err:
            print(f"left out {check.id}: {err}", file=sys.stderr)
    return out


def plan(
    all_templates: list[Template], resources: int, accounts: int
) -> list[tuple[Template, int]]:
    """How many copies of each template make an estate of about `resources` resources."""
    by_check: dict[str, list[Template]] = {}
    for t in all_templates:
        by_check.setdefault(t.check_id, []).append(t)
    per_type: dict[str, int] = {}
    for items in by_check.values():
        per_type[items[0].resource_type] = per_type.get(items[0].resource_type, 0) + 1
    shares = {t: RESOURCE_MIX.get(t, OTHER_SHARE) for t in per_type if t not in ACCOUNT_TYPES}
    total = sum(shares.values())
    out = []
    for items in by_check.values():
        kind = items[0].resource_type
        if kind in ACCOUNT_TYPES:
            n = accounts
        else:
            avg = max(1.0, sum(t.resources for t in items) / len(items))
            n = max(1, round(resources * shares[kind] / total / per_type[kind] / avg))
        out += [(t, n // len(items) + (i < n % len(items))) for i, t in enumerate(items)]
    return [(t, n) for t, n in out if n]


def expand(
    copies: list[tuple[Template, int]], accounts: list[str], folder: Path
) -> dict[str, Path]:
    """Writes every copy's rows as NDJSON, one file per table; returns the files."""
    files: dict[str, Any] = {}
    k = 0
    try:
        for template, n in copies:
            for _ in range(n):
                k += 1
                values = {
                    s: accounts[(k + j) % len(accounts)] for j, s in enumerate(template.accounts)
                }
                values.update(
                    (s, f"{k:08x}-{i:04x}{tail}") for i, (s, tail) in enumerate(template.uuids)
                )
                for slot, fmt, suffix in template.tokens:
                    token = fmt.format_map(values)
                    values[slot] = f"{token}-s{k}" if suffix else f"s{k}-{token}"
                for table, fmt in template.lines.items():
                    if table not in files:
                        files[table] = (folder / f"{table}.ndjson").open("w", encoding="utf-8")
                    files[table].write(fmt.format_map(values))
    finally:
        for handle in files.values():
            handle.close()
    return {table: folder / f"{table}.ndjson" for table in files}


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
