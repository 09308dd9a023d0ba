"""The one-pass scan: CloudTrail files to Arrow columns in C, read by DuckDB without a copy.

DuckDB's JSON reader parsed each record three times on the bulk path (the file, the record
into its struct, the record again for `raw`) and serialised it twice: two thirds of ingest's
CPU. `_scan` (C, built with the package) validates each file as JSON once and copies out the
columns: strings unescaped, nested parts and `raw` as their text in the file. Files are read,
gunzipped and scanned on every core (neither ISA-L's gunzip nor the scan holds the GIL). A file the
scan does not take (anything unusual, see `_scan.c`) goes through DuckDB's reader as before.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from opencwpp.detect.ingest.records import (
    DEFAULT_MAX_FILE_BYTES,
    BadFile,
    FileTooBig,
    decompress,
)
from opencwpp.detect.ingest.table import JSON_FIELDS, MOVED_KEYS, SCALAR_FIELDS

try:
    from opencwpp.detect.ingest import _scan
except ImportError:  # a checkout whose extension was not built: DuckDB's reader does it all
    _scan = None  # type: ignore[assignment]

# The column `@timestamp` is read into, the eventTime of records exported by Logstash.
AT_TIMESTAMP = "at_timestamp"
_CAPTURES = (
    [(name, dotted, False) for name, _, dotted in SCALAR_FIELDS]
    + [(name, key, True) for name, key in JSON_FIELDS]
    + [(AT_TIMESTAMP, "@timestamp", False)]
)
# `bulk.sniff`'s formats, as the scan names them.
_SHAPES = {"records": "r", "array": "a", "auto": "l"}
_SCANNER = None if _scan is None else _scan.Scanner(_CAPTURES, [key for _, key in MOVED_KEYS])


def available() -> bool:
    """Whether the C scanner was built (it is by `pip install`, which `make install` runs)."""
    return _SCANNER is not None


@dataclass(frozen=True, slots=True)
class ScannedFiles:
    """Scanned files as one Arrow C stream (a batch each), for `Lake.arrow_view`.

    Columns: `source` (the file's URI), `nbytes` (the record's length in the file),
    `is_object`, one per `SCALAR_FIELDS` and `JSON_FIELDS` column as text or JSON,
    `at_timestamp`, and `raw` (JSON).
    """

    scanner: _scan.Scanner
    parts: tuple[_scan.Scanned, ...]

    @property
    def rows(self) -> int:
        """Records in the files."""
        return sum(part.rows for part in self.parts)

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """A new stream over the files each call: DuckDB asks more than once."""
        return self.scanner.stream(list(self.parts))


class _TooBig:
    """`_text`'s answer for a file over the size limit once decompressed."""


_TOO_BIG = _TooBig()


def _text(path: os.PathLike[str], compression: str, max_file_bytes: int) -> bytes | _TooBig | None:
    """The file's text, gunzipped (`records.decompress`); None when it cannot be read."""
    try:
        if os.stat(path).st_size > max_file_bytes:  # larger still once decompressed
            return _TOO_BIG
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    if compression != "gzip":
        return data
    try:
        return decompress(data, max_file_bytes)
    except FileTooBig:
        return _TOO_BIG
    except BadFile:  # DuckDB's reader and then the Python path say what is wrong
        return None


def _encodes(uri: str) -> bool:
    """Whether the URI is valid UTF-8 text (a local name may hold undecodable bytes)."""
    try:
        uri.encode()
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class ScanResult:
    """The scanned files (None when none was taken), and the indexes of the others."""

    scanned: ScannedFiles | None
    left: list[int]  # for DuckDB's reader
    too_big: list[int]  # over the size limit once decompressed: not to be read at all


def scan_files(
    files: list[tuple[os.PathLike[str], str]],
    fmt: str,
    compression: str,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> ScanResult:
    """Scans files (path, URI) of one format and compression, on every core."""
    shape = _SHAPES.get(fmt)
    if _SCANNER is None or shape is None:
        return ScanResult(None, list(range(len(files))), [])
    scanner = _SCANNER

    def scan(file: tuple[os.PathLike[str], str]) -> _scan.Scanned | _TooBig | None:
        path, uri = file
        if not _encodes(uri):
            return None
        text = _text(path, compression, max_file_bytes)
        if text is None or isinstance(text, _TooBig):
            return text
        return scanner.scan(text, uri, shape)

    workers = min(len(files), os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=max(workers, 1)) as pool:
        results = list(pool.map(scan, files))
    parts = tuple(part for part in results if isinstance(part, _scan.Scanned))
    return ScanResult(
        ScannedFiles(scanner, parts) if parts else None,
        [index for index, part in enumerate(results) if part is None],
        [index for index, part in enumerate(results) if part is _TOO_BIG],
    )
