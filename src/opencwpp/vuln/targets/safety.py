"""Limits and path checks for untrusted archives: no traversal, bounded sizes and counts."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from opencwpp.vuln.errors import BadInputError


@dataclass
class Budget:
    """What one archive may expand to; exceeding it is an archive bomb, refused."""

    source: str
    max_bytes: int = 8 * 1024**3
    max_entries: int = 2_000_000
    bytes_seen: int = 0
    entries_seen: int = 0

    def take(self, size: int) -> None:
        """Accounts for one entry of `size` bytes; BadInputError past the bound."""
        self.entries_seen += 1
        self.bytes_seen += max(size, 0)
        if self.entries_seen > self.max_entries:
            raise BadInputError(self.source, f"more than {self.max_entries} entries (bomb?)")
        if self.bytes_seen > self.max_bytes:
            raise BadInputError(self.source, f"expands past {self.max_bytes} bytes (bomb?)")


def safe_relpath(name: str) -> str | None:
    """The archive member name as a root-relative posix path; None when it escapes the root."""
    name = name.replace("\\", "/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        return None
    norm = posixpath.normpath("/".join(parts)) if parts else ""
    return "" if norm == "." else norm
