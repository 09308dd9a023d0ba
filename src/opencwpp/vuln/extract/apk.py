"""Alpine packages from the apk installed database (lib/apk/db/installed)."""

from __future__ import annotations

from opencwpp.vuln.extract.base import APK, Extractor, Package, register


def parse_installed(data: bytes, path: str) -> list[Package]:
    """Packages of an apk `installed` file: P name, V version, o origin (source package)."""
    packages = []
    record: dict[str, str] = {}
    for line in [*data.decode("utf-8", errors="replace").splitlines(), ""]:
        if not line.strip():
            if record.get("P") and record.get("V"):
                origin = record.get("o", record["P"])
                packages.append(Package(APK, record["P"], record["V"], path, origin, record["V"]))
            record = {}
            continue
        key, sep, value = line.partition(":")
        if sep and len(key) == 1 and key not in record:
            record[key] = value
    return packages


EXTRACTOR = register(Extractor("apk", lambda p: p == "lib/apk/db/installed", parse_installed))
