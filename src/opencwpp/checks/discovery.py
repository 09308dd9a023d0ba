"""Discovery of posture checks: one folder per check under `checks/<provider>/<service>/`.

A check folder holds `metadata.yaml`, `check.sql` and `cases.yaml`. Folders are found on disk,
so adding a check is adding a folder; the folder name must equal the check id.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlglot
import yaml
from pydantic import ValidationError
from sqlglot import exp
from sqlglot.errors import SqlglotError

from opencwpp.checks.metadata import CheckMetadata
from opencwpp.core.errors import CheckDefinitionError
from opencwpp.core.registry import Registry

BUILTIN_ROOT = Path(__file__).parent
METADATA_FILE = "metadata.yaml"
SQL_FILE = "check.sql"
CASES_FILE = "cases.yaml"

# The columns a check's SQL must return, one row per resource it judged.
OUTPUT_COLUMNS = ("resource_uid", "resource_name", "account_id", "region", "status", "detail")


@dataclass(frozen=True, slots=True)
class Check:
    """A posture check: metadata, SQL (DuckDB dialect) and where its cases live."""

    meta: CheckMetadata
    sql: str
    folder: Path

    @property
    def id(self) -> str:
        """The check id."""
        return self.meta.id

    @property
    def cases_path(self) -> Path:
        """The check's `cases.yaml`."""
        return self.folder / CASES_FILE


# libyaml's safe loader when PyYAML was built with it: the same documents, ten times faster
# (0.3 s of every run's start went into the metadata of 250 checks).
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _problem(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(file)"
    return f"{where}: {first['msg']}"


def load_check(folder: Path) -> Check:
    """Loads and validates one check folder; errors name the file and the problem."""
    meta_path = folder / METADATA_FILE
    try:
        raw = yaml.load(meta_path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)  # noqa: S506 (a safe loader)
    except (OSError, yaml.YAMLError) as err:
        raise CheckDefinitionError(f"{meta_path}: {str(err).splitlines()[0]}") from err
    if not isinstance(raw, dict):
        raise CheckDefinitionError(f"{meta_path}: expected a mapping of metadata keys")
    try:
        meta = CheckMetadata.model_validate(raw)
    except ValidationError as err:
        raise CheckDefinitionError(f"{meta_path}: {_problem(err)}") from err
    if meta.id != folder.name:
        raise CheckDefinitionError(f"{meta_path}: id {meta.id!r} differs from its folder name")
    sql_path = folder / SQL_FILE
    try:
        sql = sql_path.read_text(encoding="utf-8").strip().rstrip(";")
    except OSError as err:
        raise CheckDefinitionError(f"{sql_path}: {err.strerror}") from err
    try:
        parsed = sqlglot.parse(sql, read="duckdb")
    except SqlglotError as err:
        raise CheckDefinitionError(f"{sql_path}: {str(err).splitlines()[0]}") from err
    if len(parsed) != 1:
        raise CheckDefinitionError(f"{sql_path}: expected exactly one SELECT statement")
    statement = parsed[0]
    if statement is not None:
        # DESIGN.md: LIKE escapes differ between DuckDB, PostgreSQL and Spark, so say it.
        for node in statement.find_all(exp.Like, exp.ILike):
            if not isinstance(node.parent, exp.Escape):
                raise CheckDefinitionError(f"{sql_path}: add ESCAPE '\\' to {node.sql()}")
    return Check(meta=meta, sql=sql, folder=folder)


def discover(root: Path) -> Registry[Check]:
    """All checks under `root` (folders holding a metadata file), sorted by id."""
    checks: Registry[Check] = Registry("check")
    folders = sorted(p.parent for p in root.rglob(METADATA_FILE))
    for check in sorted((load_check(f) for f in folders), key=lambda c: c.id):
        checks.add(check.id, check)
    return checks


@lru_cache(maxsize=1)
def builtin_checks() -> Registry[Check]:
    """The checks that ship with opencwpp."""
    return discover(BUILTIN_ROOT)


def provider_checks(provider: str) -> list[Check]:
    """The built-in checks of one cloud (`aws`, `azure`): a scan of one cloud runs only those."""
    return [c for c in builtin_checks() if c.meta.provider == provider]
