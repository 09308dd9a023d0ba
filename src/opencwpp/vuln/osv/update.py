"""`vuln db update`: fetch every source, then import them all in one lake transaction.

All or nothing: when any source fails (network, HTTP status, corrupt file, failing import)
nothing is imported and the previous advisory tables stay exactly as they were; the files
that did arrive stay in the cache, so the next run imports them without downloading again.
`cwpp_vuln_updates` keeps, per source, the URL, the validators and digest of the file last
imported, its record count and when; it is written in the same transaction as the import.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import psycopg

from opencwpp.lake.lake import Lake
from opencwpp.lake.schema import INT64, TIMESTAMP, Column, Table
from opencwpp.vuln.bulk import insert_many
from opencwpp.vuln.errors import BadInputError
from opencwpp.vuln.osv.common import ImportResult, now
from opencwpp.vuln.osv.download import Downloader, DownloadError, Fetched, Meta
from opencwpp.vuln.osv.feeds import import_eol, import_epss, import_kev
from opencwpp.vuln.osv.importer import import_osv
from opencwpp.vuln.osv.sources import Source
from opencwpp.vuln.osv.verify import read_eol, read_epss, read_kev, verify
from opencwpp.vuln.tables import DB_TABLES

UPDATES = Table(
    name="cwpp_vuln_updates",
    columns=(
        Column("name"),
        Column("kind"),
        Column("url"),
        Column("etag"),
        Column("last_modified"),
        Column("sha256"),
        Column("records", INT64),
        Column("problems", INT64),
        Column("updated_at", TIMESTAMP),
        Column("checked_at", TIMESTAMP),
    ),
    primary_key=("name",),
    synced=False,
)


@dataclass
class Outcome:
    """What happened to one source: imported, unchanged, failed, or held back by another."""

    source: Source
    status: str
    records: int = 0
    problems: list[str] = field(default_factory=list)
    error: str | None = None
    resumed_from: int = 0


@dataclass
class UpdateResult:
    """Every source's outcome; `failed` when nothing was imported because of a failure."""

    outcomes: list[Outcome]

    @property
    def failed(self) -> list[Outcome]:
        """The sources that failed."""
        return [o for o in self.outcomes if o.status == "failed"]


def _import_file(lake: Lake, source: Source, path: Path) -> ImportResult:
    if source.kind == "osv":
        return import_osv(lake, path)
    if source.kind == "kev":
        return import_kev(lake, path, read_kev(path))
    if source.kind == "epss":
        return import_epss(lake, path, read_epss(path))
    return import_eol(lake, path, read_eol(path))


def _label(lake: Lake, source: Source, path: Path) -> None:
    """Names the import by its URL instead of the cache path (sources and advisories)."""
    lake.execute("DELETE FROM cwpp_vuln_sources WHERE source = ?", [source.url])
    lake.execute(
        "UPDATE cwpp_vuln_sources SET source = ? WHERE source = ?", [source.url, str(path)]
    )
    if source.kind == "osv":
        lake.execute(
            "UPDATE cwpp_advisories SET source = ? WHERE source = ?", [source.url, str(path)]
        )


def _state(lake: Lake) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in lake.query(f"SELECT * FROM {UPDATES.name}")}


def _known(row: dict[str, Any] | None, source: Source) -> Meta | None:
    if row is None or row["url"] != source.url:
        return None
    return Meta(row["url"], row["etag"], row["last_modified"], row["sha256"])


def _write_state(lake: Lake, fetched: Fetched, result: ImportResult, when: datetime) -> None:
    meta = fetched.meta or Meta(fetched.source.url)
    lake.execute(f"DELETE FROM {UPDATES.name} WHERE name = ?", [fetched.source.name])
    insert_many(
        lake,
        UPDATES,
        [
            {
                "name": fetched.source.name,
                "kind": fetched.source.kind,
                "url": fetched.source.url,
                "etag": meta.etag,
                "last_modified": meta.last_modified,
                "sha256": meta.sha256,
                "records": result.records,
                "problems": len(result.problems),
                "updated_at": when,
                "checked_at": when,
            }
        ],
    )


def update(lake: Lake, sources: Sequence[Source], downloader: Downloader) -> UpdateResult:
    """Downloads `sources` and imports the changed ones in one transaction (all or nothing)."""
    lake.ensure_tables((*DB_TABLES, UPDATES))
    state = _state(lake)
    outcomes: dict[str, Outcome] = {}
    pending: list[Fetched] = []
    for source in sources:
        try:
            fetched = downloader.fetch(source, verify, _known(state.get(source.name), source))
        except DownloadError as err:
            outcomes[source.name] = Outcome(source, "failed", error=err.problem)
            continue
        outcomes[source.name] = Outcome(source, "unchanged", resumed_from=fetched.resumed_from)
        previous = state.get(source.name)
        same = (
            previous is not None
            and previous["url"] == source.url
            and fetched.meta is not None
            and previous["sha256"] == fetched.meta.sha256
        )
        if fetched.path is not None and not same:
            pending.append(fetched)
    result = UpdateResult([outcomes[s.name] for s in sources])
    if result.failed:
        for outcome in result.outcomes:
            if outcome.status != "failed":
                outcome.status = "held"
        return result
    _import_all(lake, pending, outcomes)
    return result


def _import_all(lake: Lake, pending: list[Fetched], outcomes: dict[str, Outcome]) -> None:
    when = now()
    current: Fetched | None = None
    try:
        with lake.transaction():
            for fetched in pending:
                current = fetched
                if fetched.path is None:
                    continue
                imported = _import_file(lake, fetched.source, fetched.path)
                _label(lake, fetched.source, fetched.path)
                _write_state(lake, fetched, imported, when)
                outcome = outcomes[fetched.source.name]
                outcome.status = "imported"
                outcome.records = imported.records
                outcome.problems = imported.problems
            lake.execute(f"UPDATE {UPDATES.name} SET checked_at = ?", [when])
    except (BadInputError, duckdb.Error, psycopg.Error) as err:
        failed = current.source.name if current is not None else "lake"
        for name, outcome in outcomes.items():
            if name == failed:
                outcome.status, outcome.error = "failed", f"import failed: {err}"
            else:
                outcome.status, outcome.records, outcome.problems = "held", 0, []
