"""A run's findings staged in temporary tables, so a million of them never leave the database.

Each check's judged rows land in a table of their own (`CREATE TABLE … AS`, which DuckDB
writes faster than appends to one growing table), findings computed in Python (a check that
cannot run) and NOT_ASSESSED scopes in `cwpp_stage_findings`, and the fields every finding of a
check shares (title, severity, remediation …) once per check in `cwpp_stage_checks`. The view
`cwpp_stage_all` reads them as one; mutes, duplicates, counts and the lifecycle
(`lifecycle.save_staged`) are set-based statements over it.

On a DuckDB file several connections can stage checks at once: their tables then live in an
in-memory database attached for the run, which every connection to the file sees (temporary
tables are private to one connection).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from fnmatch import fnmatchcase

from opencwpp.core.models import Finding
from opencwpp.findings.mute_sql import mute_update
from opencwpp.findings.mutelist import Mutelist
from opencwpp.lake.lake import Lake
from opencwpp.lake.schema import BOOL, INT64, JSON, SQL_TYPES, Column, Table


def _table(name: str, columns: Sequence[str | tuple[str, str]]) -> Table:
    cols = tuple(Column(*c) if isinstance(c, tuple) else Column(c) for c in columns)
    return Table(name=name, columns=cols, primary_key=(), synced=False)


# The columns of every staged row, in this order (`checks.engine.STAGED_COLUMNS`).
FINDINGS_STAGE = _table(
    "cwpp_stage_findings",
    [
        "check_id",
        "status",
        "detail",
        "resource_uid",
        "account_id",
        "region",
        "resource_name",
        ("resource_tags", JSON),
        ("seq", INT64),
        "status_reason",  # NULL until a mute rule sets it: the reason is the detail
    ],
)
CHECKS_STAGE = _table(
    "cwpp_stage_checks",
    [
        "check_id",
        ("seq", INT64),
        "provider",
        "service",
        ("ran", BOOL),
        "title",
        "pillar",
        "severity",
        ("severity_rank", INT64),
        "resource_type",
        "remediation",
        ("compliance", JSON),
        ("mitre_attack", JSON),
    ],
)
CHECK_TABLES_STAGE = _table("cwpp_stage_check_tables", ["check_id", "table_name"])
STAGED = "cwpp_stage_all"
_UNIQUE = "cwpp_stage_unique"
_KEY = "check_id, account_id, region, resource_uid"


@dataclass(frozen=True, slots=True)
class CheckRow:
    """What every finding of one check shares, and whether its SQL ran in this run."""

    check_id: str
    seq: int
    provider: str
    service: str
    ran: bool
    title: str
    pillar: str
    severity: str
    severity_rank: int
    resource_type: str
    remediation: str
    compliance: dict[str, list[str]] = field(default_factory=dict)
    mitre_attack: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StageCounts:
    """The staged findings counted by status, and FAIL by severity rank (for CI gating)."""

    by_status: dict[str, int]
    fail_by_rank: dict[int, int]

    @property
    def total(self) -> int:
        """All staged findings."""
        return sum(self.by_status.values())


def finding_id_sql(dialect: str, check_id: str, account: str, region: str, uid: str) -> str:
    """SQL for `core.models.finding_id`: the same 32 hex characters, byte for byte."""
    key = f"{check_id} || chr(31) || {account} || chr(31) || {region} || chr(31) || {uid}"
    if dialect == "postgres":
        return f"left(encode(sha256(convert_to({key}, 'UTF8')), 'hex'), 32)"
    return f"left(sha256({key}), 32)"


def evidence_sql(dialect: str, detail: str) -> str:
    """A check finding's evidence from its detail, as `checks.engine` builds it in Python."""
    if dialect == "postgres":
        return (
            f"CASE WHEN {detail} <> '' THEN jsonb_build_object('detail', {detail}) "
            "ELSE CAST('{}' AS jsonb) END"
        )
    return (
        f"CASE WHEN {detail} <> '' THEN json_object('detail', {detail}) "
        "ELSE CAST('{}' AS JSON) END"
    )


@dataclass
class Stage:
    """The staging tables of one run; `drop` removes them.

    With `workers` > 1 on a DuckDB file, per-check tables go to an attached in-memory
    database so that other connections (`add_select(lake=...)`) can create them too.
    """

    lake: Lake
    workers: int = 1
    check_tables: dict[str, str] = field(default_factory=dict)
    materialized: dict[str, str] = field(default_factory=dict)
    catalog: str | None = None
    deduplicated: bool = False
    _order: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def _columns(self) -> str:
        return ", ".join(c.name for c in FINDINGS_STAGE.columns)

    @property
    def shared(self) -> bool:
        """Whether other connections to the lake can stage checks (see the class)."""
        return self.catalog is not None

    def create(self) -> None:
        """(Re)creates the empty staging tables, private to this connection."""
        self.drop()
        types = SQL_TYPES[self.lake.dialect]
        for tbl in (FINDINGS_STAGE, CHECKS_STAGE, CHECK_TABLES_STAGE):
            cols = ", ".join(f'"{c.name}" {types[c.type]}' for c in tbl.columns)
            self.lake.execute(f'CREATE TEMP TABLE "{tbl.name}" ({cols})')
        if self.lake.dialect != "duckdb":
            return
        # Nothing staged or stored depends on row order; DuckDB writes in parallel without it.
        # (Restored by `drop`.)
        self._order = str(
            self.lake.query("SELECT current_setting('preserve_insertion_order') AS v")[0]["v"]
        ).lower()
        self.lake.execute("SET preserve_insertion_order = false")
        if self.workers > 1 and ":memory:" not in self.lake.url:
            self.catalog = f"cwpp_stage_{uuid.uuid4().hex[:12]}"
            self.lake.execute(f"ATTACH ':memory:' AS {self.catalog}")

    def drop(self) -> None:
        """Drops the staging view and tables (they vanish with the connection anyway)."""
        schema = "pg_temp" if self.lake.dialect == "postgres" else "temp"
        self.lake.execute(f"DROP VIEW IF EXISTS {schema}.{STAGED}")
        names = [*self.check_tables.values(), *self.materialized.values(), f"{schema}.{_UNIQUE}"]
        names += [f"{schema}.{t.name}" for t in (FINDINGS_STAGE, CHECKS_STAGE, CHECK_TABLES_STAGE)]
        for name in names:
            self.lake.execute(f"DROP TABLE IF EXISTS {name}")
        if self.catalog is not None:
            self.lake.execute(f"DETACH DATABASE IF EXISTS {self.catalog}")
            self.catalog = None
        if self._order in ("true", "false"):
            self.lake.execute(f"SET preserve_insertion_order = {self._order}")
            self._order = None
        self.check_tables.clear()
        self.materialized.clear()
        self.deduplicated = False

    def materialize(self, views: Iterable[str]) -> dict[str, str]:
        """Copies each view's rows into a table of the stage; returns view -> table.

        A view that several checks read is then computed once per run, not once per check
        (the CIS monitoring view, read by fifteen checks, joins every trail, filter and alarm).
        """
        for view in views:
            name = f"cwpp_stage_v_{view}"
            if self.catalog is not None:
                name = f"{self.catalog}.{name}"
            temp = "" if self.catalog is not None else "TEMP "
            self.lake.execute(f"DROP TABLE IF EXISTS {name}")
            self.lake.execute(f'CREATE {temp}TABLE {name} AS SELECT * FROM "{view}"')
            self.materialized[view] = name
        return dict(self.materialized)

    def add_select(self, check_id: str, seq: int, select: str, lake: Lake | None = None) -> None:
        """Stages one check's rows: a SELECT returning the staged columns.

        `lake` is another connection to the same lake when the stage is `shared`.
        """
        lake = lake or self.lake
        name = f"cwpp_stage_c{int(seq)}"
        if self.catalog is not None:
            name = f"{self.catalog}.{name}"
        lake.execute(f"DROP TABLE IF EXISTS {name}")
        temp = "" if self.catalog is not None else "TEMP "
        lake.execute(f"CREATE {temp}TABLE {name} AS {select}")
        with self._lock:
            self.check_tables[check_id] = name

    def add_rows(self, select: str) -> None:
        """Appends the rows of a SELECT returning the staged columns (NOT_ASSESSED scopes)."""
        self.lake.execute(f"INSERT INTO {FINDINGS_STAGE.name} ({self._columns}) {select}")

    def add_findings(self, batches: Iterable[tuple[int, Sequence[Finding]]]) -> None:
        """Stages findings computed in Python, each batch with its check's run position.

        Those of a check that cannot run, or whose output columns only running it would
        tell; their shared fields come from `cwpp_stage_checks`.
        """
        self.lake.insert_rows(
            FINDINGS_STAGE,
            [
                {
                    "check_id": f.check_id,
                    "status": f.status.value,
                    "detail": f.status_reason,
                    "resource_uid": f.resource.uid,
                    "account_id": f.resource.account_id,
                    "region": f.resource.region,
                    "resource_name": f.resource.name,
                    "resource_tags": f.resource.tags,
                    "seq": seq,
                }
                for seq, findings in batches
                for f in findings
            ],
        )

    def add_checks(self, rows: Sequence[CheckRow]) -> None:
        """Records the run's checks: their shared fields, and the tables each reads."""
        self.lake.insert_rows(
            CHECKS_STAGE,
            [
                {c.name: getattr(r, c.name) for c in CHECKS_STAGE.columns}
                | {"mitre_attack": list(r.mitre_attack)}
                for r in rows
            ],
        )
        self.lake.insert_rows(
            CHECK_TABLES_STAGE,
            [{"check_id": r.check_id, "table_name": t} for r in rows for t in r.tables],
        )

    def _view(self, tables: Iterable[str]) -> None:
        schema = "pg_temp" if self.lake.dialect == "postgres" else "temp"
        self.lake.execute(f"DROP VIEW IF EXISTS {schema}.{STAGED}")
        union = " UNION ALL ".join(f"SELECT {self._columns} FROM {t}" for t in tables)
        self.lake.execute(f"CREATE TEMP VIEW {STAGED} AS {union}")

    def seal(self) -> None:
        """Creates the view `cwpp_stage_all` over everything staged."""
        self._view([FINDINGS_STAGE.name, *self.check_tables.values()])

    def mute(self, mutelist: Mutelist, today: date | None = None) -> None:
        """Mutes the FAIL rows an active rule covers (an UPDATE per table a rule can reach)."""
        rules = mutelist.active(today)
        if not rules:
            return
        targets: list[tuple[str, str | None]] = [(FINDINGS_STAGE.name, None)]
        targets += [
            (table, check_id)
            for check_id, table in self.check_tables.items()
            if any(fnmatchcase(check_id, r.check) for r in rules)
        ]
        for table, check_id in targets:
            update = mute_update(rules, table, self.lake.dialect, check_id)
            if update is not None:
                self.lake.execute(*update)

    def deduplicate(self) -> None:
        """Keeps one staged row per finding (`lifecycle` calls this when it sees duplicates).

        A check whose SQL returns a resource twice is a check bug; the worst row (FAIL before
        MUTED, NOT_ASSESSED, PASS) is kept, so such a bug never hides a failure.
        """
        self.lake.execute(f"DROP TABLE IF EXISTS {_UNIQUE}")
        self.lake.execute(
            f"CREATE TEMP TABLE {_UNIQUE} AS SELECT DISTINCT ON ({_KEY}) {self._columns} "
            f"FROM {STAGED} ORDER BY {_KEY}, status, detail, resource_name, seq"
        )
        self._view([_UNIQUE])
        self.deduplicated = True

    def counts(self) -> StageCounts:
        """Counts the staged findings (after mutes and duplicates)."""
        rows = self.lake.query(
            f"SELECT f.status, c.severity_rank, count(*) AS n FROM {STAGED} AS f "
            f"JOIN {CHECKS_STAGE.name} AS c ON c.check_id = f.check_id "
            "GROUP BY f.status, c.severity_rank"
        )
        by_status: dict[str, int] = {}
        fail_by_rank: dict[int, int] = {}
        for row in rows:
            by_status[row["status"]] = by_status.get(row["status"], 0) + int(row["n"])
            if row["status"] == "FAIL":
                rank = int(row["severity_rank"])
                fail_by_rank[rank] = fail_by_rank.get(rank, 0) + int(row["n"])
        return StageCounts(by_status, fail_by_rank)
