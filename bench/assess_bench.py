"""The full assessment over a synthetic lake of 1,000,000 resources, on DuckDB and PostgreSQL.

The estate is every check's cases, copied with fresh identifiers in a realistic mix of resource
types (`lake_bench.RESOURCE_MIX`) over a pool of accounts, written in bulk: NDJSON read by
DuckDB's own reader, and DuckDB's CSV export streamed into PostgreSQL with COPY. Each
assessment then runs in a fresh process (twice: a first run, and a second one that finds the
first run's findings, the steady state): wall time, findings written, the ten slowest checks and
the process's peak RSS. Target: the full assessment on DuckDB in under 10 seconds (issue 4).

    python bench/assess_bench.py                       # 1,000,000 resources
    python bench/assess_bench.py --resources 50000     # a quick run
    python bench/assess_bench.py --keep DIR            # build the lake in DIR once, reuse it

With `--keep`, the freshly loaded DuckDB lake (no findings yet) is kept as DIR/lake.duckdb
and later invocations with the same DIR copy it instead of generating the estate again, so
every set of runs still starts from a first run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import duckdb
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lake_bench import expand, plan, templates

from opencwpp.catalog import lake_tables
from opencwpp.lake import Lake, Table
from opencwpp.lake.schema import JSON, LIST_UTF8, SQL_TYPES

PG = os.environ.get("CWPP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
TARGET_S = 10.0
_DUCK = SQL_TYPES["duckdb"]


# Tables whose rows a sync keeps one of per key the cq id does not capture (a credential report
# has one root row per account, whatever its creation time).
KEYS = {"aws_iam_credential_reports": ("arn",)}


def _natural_key(tbl: Table) -> tuple[str, ...]:
    if tbl.name in KEYS:
        return KEYS[tbl.name]
    if tbl.cq_id_from:
        return tbl.cq_id_from
    return () if tbl.primary_key == ("_cq_id",) else tbl.primary_key


def load_duckdb(path: Path, files: dict[str, Path], catalog: dict[str, Table]) -> dict[str, int]:
    """Creates the lake's tables and bulk-loads the NDJSON files; returns rows per table."""
    tables = [catalog[name] for name in files]
    scopes = catalog["cwpp_sync_scopes"]
    with Lake.open(f"duckdb://{path}") as lake:
        lake.ensure_tables([*tables, scopes])
    counts: dict[str, int] = {}
    with duckdb.connect(str(path)) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        for tbl in tables:
            cq = [c for c in ("_cq_source_name", "_cq_sync_time") if c in tbl.column_names]
            read = [c for c in tbl.column_names if c not in cq]
            spec = "{" + ", ".join(f"'{c}': '{_DUCK[tbl.column_type(c)]}'" for c in read) + "}"
            values = ["COALESCE(_cq_id, uuid())" if c == "_cq_id" else f'"{c}"' for c in read]
            values += ["'aws'", "now()::TIMESTAMP"][: len(cq)]
            source = (
                f"read_json('{files[tbl.name]}', format = 'newline_delimited', columns = {spec})"
            )
            # Copies of one account's singleton (password policy, account settings) collapse
            # to one row, as a sync would store it; rows without their natural key stay.
            key = [f'"{c}"' for c in _natural_key(tbl)]
            if key:
                known = " AND ".join(f"{c} IS NOT NULL" for c in key)
                source = (
                    f"(SELECT DISTINCT ON ({', '.join(key)}) * FROM {source} WHERE {known} "
                    f"UNION ALL SELECT * FROM {source} WHERE NOT ({known}))"
                )
            names = ", ".join(f'"{c}"' for c in read + cq)
            conn.execute(
                f'INSERT INTO "{tbl.name}" ({names}) SELECT {", ".join(values)} FROM {source}'
            )
        # What a sync records: every (table, account, region) it covered, as assessed.
        for tbl in tables:
            account, region = tbl.account_column, tbl.region_column
            if account is None or tbl.name == scopes.name:
                continue
            where = f"COALESCE(t.\"{region}\", '')" if region else "''"
            conn.execute(
                "INSERT INTO cwpp_sync_scopes (table_name, account_id, region, status, "
                "synced_at, run_id, _cq_source_name, _cq_sync_time) "
                f"SELECT DISTINCT '{tbl.name}', t.\"{account}\", {where}, 'ok', "
                f"now()::TIMESTAMP, 'bench', 'aws', now()::TIMESTAMP FROM \"{tbl.name}\" AS t "
                f'WHERE t."{account}" IS NOT NULL AND NOT EXISTS (SELECT 1 '
                f"FROM cwpp_sync_scopes AS s WHERE s.table_name = '{tbl.name}' "
                f'AND s.account_id = t."{account}" AND s.region = {where})'
            )
        conn.execute("CHECKPOINT")
        for tbl in [*tables, scopes]:
            row = conn.execute(f'SELECT count(*) FROM "{tbl.name}"').fetchone()
            counts[tbl.name] = int(row[0]) if row else 0
    return counts


def _csv_column(tbl: Table, name: str) -> str:
    if tbl.column_type(name) == LIST_UTF8:  # a PostgreSQL array literal
        quoted = (
            'list_transform("{0}", '
            "lambda x: '\"' || replace(replace(x, '\\', '\\\\'), '\"', '\\\"') || '\"')"
        )
        return (
            f'CASE WHEN "{name}" IS NULL THEN NULL '
            f"ELSE '{{' || array_to_string({quoted.format(name)}, ',') || '}}' END"
        )
    if tbl.column_type(name) == JSON:
        return f'CAST("{name}" AS VARCHAR)'
    return f'"{name}"'


def load_postgres(url: str, duck: Path, names: list[str], catalog: dict[str, Table]) -> float:
    """Copies the DuckDB lake's tables into PostgreSQL (CSV through COPY); returns seconds."""
    started = time.perf_counter()
    tables = [catalog[n] for n in names]
    with Lake.open(url) as lake:
        lake.ensure_tables(tables)
    schema = url.rsplit("schema=", 1)[1]
    with (
        tempfile.TemporaryDirectory() as tmp,
        duckdb.connect(str(duck), read_only=True) as src,
        psycopg.connect(PG, autocommit=True) as conn,
    ):
        conn.execute(f'SET search_path TO "{schema}"')
        for tbl in tables:
            csv = Path(tmp) / f"{tbl.name}.csv"
            cols = ", ".join(_csv_column(tbl, c) for c in tbl.column_names)
            src.execute(
                f"COPY (SELECT {cols} FROM \"{tbl.name}\") TO '{csv}' (FORMAT csv, HEADER false)"
            )
            names_sql = ", ".join(f'"{c}"' for c in tbl.column_names)
            with (
                conn.cursor() as cur,
                cur.copy(f'COPY "{tbl.name}" ({names_sql}) FROM STDIN (FORMAT csv)') as copy,
                csv.open("rb") as handle,
            ):
                while block := handle.read(1 << 20):
                    copy.write(block)
            csv.unlink()
        conn.execute("ANALYZE")
    return time.perf_counter() - started


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(url: str) -> None:
    """Runs one assessment on `url`, as `cwpp assess` would; prints the figures as JSON."""
    from opencwpp.assess import assess, select_checks

    started = time.perf_counter()
    checks = select_checks()
    discovery = time.perf_counter() - started
    with Lake.open(url) as lake:
        started, cpu = time.perf_counter(), _cpu()
        result = assess(lake, checks)
        run = {
            "wall_s": time.perf_counter() - started,
            "cpu_s": _cpu() - cpu,
            "findings": len(result.findings),
            "by_status": result.by_status,
            "lifecycle": result.lifecycle_counts,
            "check_s": result.check_seconds,
            "phase_s": result.phase_seconds,
            "discovery_s": discovery,
            "checks": len(checks),
            "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    print(json.dumps(run))


def _assess_in_child(url: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", url],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _report(name: str, runs: list[dict[str, Any]]) -> None:
    first = runs[0]
    print(f"\n{name}: {first['checks']} checks; each run a fresh process, as `cwpp assess`")
    for i, run in enumerate(runs, 1):
        status = ", ".join(f"{k} {v}" for k, v in sorted(run["by_status"].items()))
        verdict = f" (target < {TARGET_S:.0f} s)" if name == "duckdb" else ""
        phases = ", ".join(f"{k} {v:.1f}" for k, v in run["phase_s"].items())
        print(
            f"  run {i}: assess {run['wall_s']:.2f} s{verdict}, process CPU {run['cpu_s']:.1f} s, "
            f"peak RSS {run['rss']:.0f} MiB; {run['findings']} findings ({status}); "
            f"lifecycle {run['lifecycle']}\n"
            f"         phases (s): {phases}; loading the checks before it {run['discovery_s']:.1f}"
        )
    last = runs[-1]["check_s"]
    slow = sorted(last.items(), key=lambda kv: -kv[1])[:10]
    print("  ten slowest checks (last run, s): " + ", ".join(f"{c} {s:.2f}" for c, s in slow))


def _counts(path: Path, catalog: dict[str, Table]) -> dict[str, int]:
    """Rows per table of a kept lake (its tables of the catalog: what `load_duckdb` loaded)."""
    with duckdb.connect(str(path), read_only=True) as conn:
        names = [r[0] for r in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        return {
            n: int(conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0])  # type: ignore[index]
            for n in names
            if n in catalog
        }


def _build(
    duck: Path, resources: int, accounts: int, pool: list[str], catalog: dict[str, Table]
) -> dict[str, int]:
    """Generates the estate and loads it into a new DuckDB lake at `duck`; returns its counts."""
    folder = duck.parent
    started = time.perf_counter()
    files = expand(plan(templates(), resources, accounts), pool, folder)
    generated = time.perf_counter() - started
    started = time.perf_counter()
    counts = load_duckdb(duck, files, catalog)
    loaded = time.perf_counter() - started
    for path in files.values():
        path.unlink()
    inventory = sum(n for t, n in counts.items() if not t.startswith("cwpp_"))
    print(
        f"estate: {inventory} resources (aws_*/azure_* rows) in {accounts} accounts, "
        f"{sum(counts.values())} rows in {len(counts)} tables; generated in {generated:.1f} s, "
        f"loaded into DuckDB in {loaded:.1f} s ({sum(counts.values()) / loaded:.0f} rows/s)"
    )
    return counts


def main() -> None:
    """Builds the estate, loads both backends, assesses each in a fresh process."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resources", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=0, help="default: 1 per 10,000 resources")
    parser.add_argument("--runs", type=int, default=3, help="first run, then steady state")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--keep", metavar="DIR", help="keep the loaded lake in DIR; reuse it")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    accounts = args.accounts or max(3, args.resources // 10_000)
    pool = [f"{100_000_000_000 + i * 7919}" for i in range(accounts)]
    catalog = lake_tables()
    with tempfile.TemporaryDirectory(prefix="cwpp-assess-bench-") as tmp:
        duck = Path(tmp) / "lake.duckdb"
        kept = Path(args.keep) / "lake.duckdb" if args.keep else None
        if kept is not None and kept.exists():
            shutil.copyfile(kept, duck)
            counts = _counts(duck, catalog)
            print(f"estate: reusing {kept} (copied)")
        else:
            counts = _build(duck, args.resources, accounts, pool, catalog)
            if kept is not None:
                kept.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(duck, kept)
        biggest = sorted(counts.items(), key=lambda kv: -kv[1])[:8]
        print("  largest tables: " + ", ".join(f"{t} {n}" for t, n in biggest))
        print(f"  machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
        results = {"duckdb": [_assess_in_child(f"duckdb://{duck}") for _ in range(args.runs)]}
        _report("duckdb", results["duckdb"])
        if not args.no_postgres:
            schema = f"cwpp_bench_{uuid.uuid4().hex[:8]}"
            try:
                url = f"{PG}?schema={schema}"
                copied = load_postgres(url, duck, list(counts), catalog)
                print(f"\nPostgreSQL: loaded by COPY in {copied:.1f} s")
                results["postgres"] = [_assess_in_child(url) for _ in range(args.runs)]
                _report("postgres", results["postgres"])
            finally:
                with psycopg.connect(PG, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        if "postgres" in results:
            d, p = (results[k][-1]["wall_s"] for k in ("duckdb", "postgres"))
            print(f"\npostgres/duckdb (steady-state run): x{p / d:.1f}")


if __name__ == "__main__":
    main()
