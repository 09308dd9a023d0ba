"""Converts Sigma rules with the public pySigma DuckDB backend; prints JSON (bench-only venv).

Runs in `bench/.venv-pysigma` (pySigma 1.x, which that backend pins; ours is pySigma 2), so it
imports nothing from opencwpp. For every rule file under the given folders it prints one entry
per rule: title, id, name, whether it is a correlation, the SQL the backend produced (or its
error), and the Sigma field names the rule compares (for the flat `logs` view the bench builds).
Rules are converted with the backend's default pipeline (field names kept as written).

    bench/.venv-pysigma/bin/python bench/detect_pysigma_convert.py DIR... > rules.json
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.rule import SigmaDetection, SigmaDetectionItem, SigmaRule
from sigma.types import SigmaCompareExpression, SigmaFieldReference
from sigma_backend_duckdb import DuckDBBackend  # the wheel installs it top-level


def _fields(
    detection: SigmaDetection | SigmaDetectionItem, out: set[str], numeric: set[str]
) -> None:
    if isinstance(detection, SigmaDetectionItem):
        if detection.field:
            out.add(detection.field)
        for value in detection.value:
            if isinstance(value, SigmaFieldReference):
                out.add(value.field)
            if isinstance(value, SigmaCompareExpression) and detection.field:
                numeric.add(detection.field)
        return
    for item in detection.detection_items:
        _fields(item, out, numeric)


def rule_fields(rule: SigmaRule) -> tuple[list[str], list[str]]:
    """The field names a rule compares (fieldref targets too), and those compared as numbers."""
    out: set[str] = set()
    numeric: set[str] = set()
    for detection in rule.detection.detections.values():
        _fields(detection, out, numeric)
    return sorted(out), sorted(numeric)


def convert(folders: list[str]) -> dict[str, Any]:
    """Every rule of every file, converted (or its error), and the conversion time."""
    files = sorted(p for f in folders for p in Path(f).rglob("*.yml"))
    entries: list[dict[str, Any]] = []
    started = time.perf_counter()
    collections = []
    for path in files:
        try:
            collections.append((path, SigmaCollection.from_yaml(path.read_text())))
        except SigmaError as err:
            entries.append({"path": str(path), "error": f"parse: {err}"})
    for path, collection in collections:
        for rule in collection.rules:
            entry: dict[str, Any] = {
                "path": str(path),
                "title": rule.title,
                "id": str(rule.id or ""),
                "name": rule.name or "",
                "correlation": isinstance(rule, SigmaCorrelationRule),
            }
            if isinstance(rule, SigmaRule):
                entry["fields"], entry["numeric"] = rule_fields(rule)
            backend = DuckDBBackend()
            try:
                if isinstance(rule, SigmaCorrelationRule):
                    # A correlation needs its base rules converted first: convert the whole
                    # file (the base rules' queries come first, the correlation's last).
                    entry["queries"] = backend.convert(collection)[-1:]
                else:
                    entry["queries"] = backend.convert(SigmaCollection([rule]))
            except (SigmaError, NotImplementedError, TypeError, KeyError, ValueError) as err:
                entry["error"] = f"{type(err).__name__}: {str(err).splitlines()[0]}"
            entries.append(entry)
    return {"rules": entries, "seconds": time.perf_counter() - started}


if __name__ == "__main__":
    json.dump(convert(sys.argv[1:]), sys.stdout, indent=1)
