"""Registry-wide conformance: every built-in check has cases for both outcomes, and every case
passes on DuckDB and on PostgreSQL."""

from __future__ import annotations

import pytest

from opencwpp.catalog import lake_tables
from opencwpp.checks import Check, builtin_checks
from opencwpp.checks.cases import load_cases, run_case
from opencwpp.checks.engine import read_instead
from opencwpp.checks.views import builtin_views
from opencwpp.core.models import Status
from opencwpp.lake import Lake

CHECKS = list(builtin_checks())


@pytest.fixture(scope="module")
def case_lakes(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """One DuckDB and one PostgreSQL lake shared by all cases (each case resets its tables)."""
    import uuid

    import psycopg

    from tests.conftest import IN_CI, PG_URL, _postgres_available

    lakes = {"duckdb": Lake.open(f"duckdb://{tmp_path_factory.mktemp('cases')}/cases.duckdb")}
    schema = f"cwpp_cases_{uuid.uuid4().hex[:10]}"
    problem = _postgres_available()
    if problem is None:
        lakes["postgres"] = Lake.open(f"{PG_URL}?schema={schema}")
    elif IN_CI:
        pytest.fail(f"PostgreSQL at {PG_URL} unreachable: {problem}")
    yield lakes
    for lake in lakes.values():
        lake.close()
    if problem is None:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_check_has_cases_for_both_outcomes(check: Check) -> None:
    outcomes = {s for case in load_cases(check) for s in case.expect.values()}
    assert {Status.PASS, Status.FAIL} <= outcomes, f"{check.id} needs a PASS and a FAIL case"


@pytest.mark.parametrize("backend", ["duckdb", "postgres"])
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_check_cases_pass(check: Check, backend: str, case_lakes: dict[str, Lake]) -> None:
    if backend not in case_lakes:
        pytest.skip("PostgreSQL unreachable")
    catalog = lake_tables()
    for case in load_cases(check):
        result = run_case(case_lakes[backend], check, case, catalog)
        assert result.ok, (
            f"{check.id} / {case.name}: expected "
            f"{ {k: v.value for k, v in case.expect.items()} }, "
            f"got { {k: v.value for k, v in result.got.items()} }"
        )


VIEW_NAMES = {v.name for v in builtin_views()}
VIEW_READERS = [c for c in CHECKS if VIEW_NAMES & set(c.meta.tables)]


@pytest.mark.parametrize("backend", ["duckdb", "postgres"])
@pytest.mark.parametrize("check", VIEW_READERS, ids=lambda c: c.id)
def test_check_cases_pass_over_materialized_views(
    check: Check, backend: str, case_lakes: dict[str, Lake]
) -> None:
    # An assessment reads a view that several checks share from a table of its rows, through
    # `read_instead`'s rewrite of the check's SQL: the same cases must give the same outcomes.
    if backend not in case_lakes:
        pytest.skip("PostgreSQL unreachable")
    lake, catalog = case_lakes[backend], lake_tables()
    for case in load_cases(check):
        expected = run_case(lake, check, case, catalog)
        assert expected.ok, case.name
        mapping = {}
        for view in sorted(v for v in VIEW_NAMES & set(check.meta.tables) if v in check.sql):
            mapping[view] = f"cwpp_test_mat_{view}"
            lake.execute(f"DROP TABLE IF EXISTS {mapping[view]}")
            lake.execute(f'CREATE TEMP TABLE {mapping[view]} AS SELECT * FROM "{view}"')
        rewritten = read_instead(check.sql, mapping)
        assert all(table in rewritten for table in mapping.values())
        rows = lake.query(rewritten)
        got = {str(r["resource_uid"]): str(r["status"]).upper() for r in rows}
        assert got == {k: v.value for k, v in expected.got.items()}, case.name


def test_every_check_reads_only_known_tables() -> None:
    from opencwpp.checks.views import builtin_views

    catalog = {**lake_tables(), **{v.name: v for v in builtin_views()}}
    for check in CHECKS:
        unknown = [t for t in check.meta.tables if t not in catalog]
        assert not unknown, f"{check.id} reads tables no collector fills: {unknown}"
