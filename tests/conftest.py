"""Shared fixtures: a lake on each backend, and where the shared test corpora live."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from opencwpp.lake import Lake

# The moto server on loopback and the demo estate, for collector and CLI tests.
pytest_plugins = ["tests.integration.moto_fixtures"]

PG_URL = os.environ.get("CWPP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"
REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """The shared test corpora (`../shared/data`, or $CWPP_SHARED_DATA)."""
    return Path(os.environ.get("CWPP_SHARED_DATA", REPO.parent / "shared" / "data"))


def require_shared(sub: str) -> Path:
    """A folder of the shared corpora; skip when absent, except under CI where it fails."""
    path = shared_data_dir() / sub
    if not path.exists():
        message = f"shared test data {path} is absent (set CWPP_SHARED_DATA)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def _postgres_available() -> str | None:
    try:
        with psycopg.connect(PG_URL, connect_timeout=3):
            return None
    except psycopg.OperationalError as err:
        return str(err).strip().splitlines()[-1]


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL test server URL; fails under CI=true when unreachable, else skips."""
    problem = _postgres_available()
    if problem is not None:
        message = f"PostgreSQL at {PG_URL} unreachable: {problem}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return PG_URL


@pytest.fixture
def pg_schema_url(postgres_url: str) -> Iterator[str]:
    """A lake URL confined to a fresh PostgreSQL schema, dropped afterwards."""
    schema = f"cwpp_test_{uuid.uuid4().hex[:12]}"
    yield f"{postgres_url}?schema={schema}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["duckdb", "postgres"])
def lake_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty lake URL on each backend."""
    if request.param == "duckdb":
        return f"duckdb://{tmp_path / 'lake.duckdb'}"
    return str(request.getfixturevalue("pg_schema_url"))


@pytest.fixture
def lake(lake_url: str) -> Iterator[Lake]:
    """An open, empty lake on each backend."""
    with Lake.open(lake_url) as opened:
        yield opened
