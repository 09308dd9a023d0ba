"""Reading OSV records from a directory, a single JSON file or an OSV per-ecosystem zip."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opencwpp.vuln.errors import BadInputError

MAX_RECORD_BYTES = 64 * 1024 * 1024


@dataclass
class ReadResult:
    """Records read from one input, and the problems met (one line each)."""

    records: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def validate(record: Any, source: str) -> dict[str, Any]:
    """The record when it has the OSV fields matching needs; BadInputError otherwise."""
    if not isinstance(record, dict):
        raise BadInputError(source, "an OSV record must be a JSON object")
    if not isinstance(record.get("id"), str) or not record["id"]:
        raise BadInputError(source, "OSV record without an 'id'")
    if not isinstance(record.get("modified"), str):
        raise BadInputError(source, f"OSV record {record['id']} has no 'modified' timestamp")
    affected = record.get("affected", [])
    if not isinstance(affected, list):
        raise BadInputError(source, f"OSV record {record['id']}: 'affected' is not a list")
    for entry in affected:
        package = entry.get("package") if isinstance(entry, dict) else None
        if package is None:
            continue  # affected entries without a package (GIT-only) are allowed by the schema
        if not isinstance(package, dict) or not all(
            isinstance(package.get(k), str) for k in ("ecosystem", "name")
        ):
            raise BadInputError(source, f"OSV record {record['id']}: package lacks ecosystem/name")
        for rng in entry.get("ranges", []) or []:
            if not isinstance(rng, dict) or not isinstance(rng.get("events"), list):
                raise BadInputError(source, f"OSV record {record['id']}: a range has no events")
    return record


def _parse(data: bytes, source: str) -> Iterator[dict[str, Any]]:
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise BadInputError(source, f"not valid JSON ({err})") from None
    for record in doc if isinstance(doc, list) else [doc]:
        yield validate(record, source)


def _add(result: ReadResult, data: bytes, source: str) -> None:
    try:
        result.records.extend(_parse(data, source))
    except BadInputError as err:
        result.problems.append(str(err))


def read_records(path: Path) -> ReadResult:
    """Every OSV record under `path` (dir of *.json, one .json file, or a .zip of them)."""
    result = ReadResult()
    if path.is_dir():
        for file in sorted(path.rglob("*.json")):
            _add(result, file.read_bytes(), str(file))
        return result
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if info.is_dir() or not info.filename.endswith(".json"):
                        continue
                    source = f"{path}!{info.filename}"
                    if info.file_size > MAX_RECORD_BYTES:
                        result.problems.append(f"{source}: record larger than the bound, skipped")
                        continue
                    _add(result, archive.read(info), source)
        except (zipfile.BadZipFile, OSError, EOFError) as err:
            result.problems.append(f"{path}: corrupt zip ({err})")
        return result
    _add(result, path.read_bytes(), str(path))
    return result
