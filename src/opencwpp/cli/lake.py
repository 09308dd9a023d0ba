"""`cwpp lake sql`: ask the lake anything, in DuckDB's SQL dialect on any backend."""

from __future__ import annotations

import csv
import json
import sys

import duckdb
import psycopg
import typer
from rich.table import Table as RichTable

from opencwpp.cli import common
from opencwpp.cli.common import console
from opencwpp.core.errors import LakeError, UsageError

lake_app = typer.Typer(help="The lake itself.", no_args_is_help=True)


@lake_app.command("sql")
def sql_command(
    ctx: typer.Context,
    query: str = typer.Argument(
        ..., help="One SQL query (DuckDB dialect; transpiled for PostgreSQL)."
    ),
    output_format: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
    lake: str | None = common.LakeOption,
) -> None:
    """Run one SQL query on the lake and print the rows."""
    if output_format not in ("table", "json", "csv"):
        raise UsageError(f"unknown output format {output_format!r}: use table, json or csv")
    cfg = common.settings(ctx, lake=lake)
    with common.open_lake(cfg.lake) as opened:
        try:
            rows = opened.query(query)
        except (duckdb.Error, psycopg.Error) as err:
            raise LakeError(f"query failed: {str(err).strip().splitlines()[0]}") from err
    if output_format == "json":
        sys.stdout.write(json.dumps(rows, default=str, indent=2) + "\n")
        return
    names = list(rows[0]) if rows else []
    if output_format == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(names)
        writer.writerows([[r[n] for n in names] for r in rows])
        return
    table = RichTable(show_lines=False)
    for name in names:
        table.add_column(common.escape(name))
    for row in rows:
        table.add_row(*(common.escape("" if v is None else str(v)) for v in row.values()))
    console.print(table)
    console.print(f"{len(rows)} row(s)")
