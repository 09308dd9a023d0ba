"""Ruby gems from Gemfile.lock (the `specs:` lists of GEM sections)."""

from __future__ import annotations

import re

from opencwpp.vuln.extract.base import Extractor, Package, basename, register

_SPEC = re.compile(r"^    ([^\s(]+) \(([^)]+)\)$")


def parse_gemfile_lock(data: bytes, path: str) -> list[Package]:
    """Gems at four-space indentation under `specs:` (dependencies are at six)."""
    out = []
    for line in data.decode("utf-8", errors="replace").splitlines():
        if m := _SPEC.match(line):
            version = m.group(2).split("-", 1)[0] if "-" in m.group(2) else m.group(2)
            out.append(Package("RubyGems", m.group(1), version, path))
    return out


register(Extractor("gemfile-lock", lambda p: basename(p) == "Gemfile.lock", parse_gemfile_lock))
