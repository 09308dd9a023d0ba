"""Types of the C scanner (`_scan.c`)."""

from typing import final

@final
class Scanned:
    """One file's records as columns."""

    @property
    def rows(self) -> int: ...

@final
class Scanner:
    """Scanner(captures, moved): captures are (column, dotted path, is_json)."""

    def __init__(self, captures: list[tuple[str, str, bool]], moved: list[str]) -> None: ...
    def scan(self, text: bytes, source: str, shape: str, /) -> Scanned | None: ...
    def stream(self, scanned: list[Scanned], /) -> object: ...
