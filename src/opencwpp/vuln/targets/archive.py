"""Zip targets (a Lambda deployment package or layer): wanted files into a temporary dir."""

from __future__ import annotations

import zipfile
from pathlib import Path

from opencwpp.vuln.errors import BadInputError
from opencwpp.vuln.extract.walk import wanted
from opencwpp.vuln.targets.safety import Budget, safe_relpath


def materialize_zip(path: Path, dest: Path, problems: list[str]) -> None:
    """Writes the files an extractor reads into `dest` (traversal refused, sizes bounded)."""
    source = str(path)
    budget = Budget(source)
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                budget.take(info.file_size)
                rel = safe_relpath(info.filename)
                if rel is None:
                    problems.append(f"{source}: path traversal refused: {info.filename!r}")
                    continue
                mode = info.external_attr >> 16
                executable = bool(mode & 0o111)
                if info.is_dir() or (mode & 0o170000) == 0o120000 or not wanted(rel, executable):
                    continue
                out = dest / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                try:
                    out.write_bytes(archive.read(info))
                except (zipfile.BadZipFile, EOFError) as err:
                    problems.append(f"{source}!{info.filename}: corrupt member ({err})")
                    continue
                out.chmod(0o700 if executable else 0o600)
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise BadInputError(source, f"not a readable zip ({err})") from None
