"""Java archives (jar, war, ear): pom.properties, the manifest, and nested archives (bounded)."""

from __future__ import annotations

import io
import zipfile

from opencwpp.vuln.extract.base import Extractor, Package, basename, register

MAVEN = "Maven"
MAX_DEPTH = 3
MAX_NESTED_BYTES = 128 * 1024 * 1024
_ARCHIVES = (".jar", ".war", ".ear", ".par", ".sar", ".hpi", ".jpi")


def _properties(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "!")):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def _manifest(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    last = ""
    for line in text.splitlines():
        if line.startswith(" ") and last:
            out[last] += line[1:]
        elif ":" in line:
            key, _, value = line.partition(":")
            last = key.strip()
            out.setdefault(last, value.strip())
    return out


def _scan(archive: zipfile.ZipFile, path: str, depth: int) -> list[Package]:
    out: list[Package] = []
    names = archive.namelist()
    for name in names:
        if name.startswith("META-INF/maven/") and name.endswith("/pom.properties"):
            props = _properties(archive.read(name).decode("utf-8", "replace"))
            if props.get("groupId") and props.get("artifactId") and props.get("version"):
                coord = f"{props['groupId']}:{props['artifactId']}"
                out.append(Package(MAVEN, coord, props["version"], path))
    if not out and "META-INF/MANIFEST.MF" in names:
        man = _manifest(archive.read("META-INF/MANIFEST.MF").decode("utf-8", "replace"))
        version = man.get("Implementation-Version") or man.get("Bundle-Version")
        group = man.get("Implementation-Vendor-Id") or man.get("Bundle-SymbolicName", "")
        artifact = man.get("Implementation-Title") or basename(path).rsplit(".", 1)[0]
        if version and group:
            out.append(Package(MAVEN, f"{group}:{artifact}", version, path))
    if depth >= MAX_DEPTH:
        return out
    for info in archive.infolist():
        if info.filename.lower().endswith(_ARCHIVES) and info.file_size <= MAX_NESTED_BYTES:
            inner = f"{path}!{info.filename}"
            with zipfile.ZipFile(io.BytesIO(archive.read(info))) as nested:
                out.extend(_scan(nested, inner, depth + 1))
    return out


def parse_archive(data: bytes, path: str) -> list[Package]:
    """Maven coordinates of a Java archive and the archives nested in it."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return _scan(archive, path, 0)


register(
    Extractor(
        "java-archive",
        lambda p: p.lower().endswith(_ARCHIVES),
        parse_archive,
        max_bytes=512 * 1024 * 1024,
    )
)
