r"""Go modules from the build information Go (>= 1.18) embeds in every binary it links.

The `\\xff Go buildinf:` blob holds, inline, the Go version and the module list (`mod`, `dep`,
`=>` replacement lines). Binaries from Go < 1.18 keep pointers instead and are not read.
"""

from __future__ import annotations

from opencwpp.vuln.errors import BadInputError
from opencwpp.vuln.extract.base import Extractor, Package, register

GO = "Go"
MAGIC = b"\xff Go buildinf:"
_EXEC_MAGICS = (b"\x7fELF", b"MZ", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe")


def _varint_string(data: bytes, pos: int) -> tuple[str, int]:
    length, shift = 0, 0
    while True:
        if pos >= len(data) or shift > 35:
            raise BadInputError("go build info", "truncated length")
        byte = data[pos]
        pos += 1
        length |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            break
    if pos + length > len(data):
        raise BadInputError("go build info", "string runs past the end of the file")
    return data[pos : pos + length].decode("utf-8", "replace"), pos + length


def build_info(data: bytes) -> tuple[str, str] | None:
    """(Go version, module info text) of a binary, None when it has no inline build info."""
    at = data.find(MAGIC)
    while at >= 0 and at % 16:
        at = data.find(MAGIC, at + 1)
    if at < 0 or len(data) < at + 32:
        return None
    if not data[at + 15] & 2:
        return None  # Go < 1.18: pointer-based, not read
    version, pos = _varint_string(data, at + 32)
    modinfo, _ = _varint_string(data, pos)
    if len(modinfo) >= 33 and modinfo[-17] == "\n":
        modinfo = modinfo[16:-16]
    return version, modinfo


def parse_binary(data: bytes, path: str) -> list[Package]:
    """The main module, its dependencies (replacements applied) and the Go stdlib."""
    if not data.startswith(_EXEC_MAGICS):
        return []
    info = build_info(data)
    if info is None:
        return []
    go_version, modinfo = info
    out: list[Package] = []
    if go_version.startswith("go"):
        out.append(Package(GO, "stdlib", go_version[2:].split(" ")[0], path))
    for line in modinfo.splitlines():
        fields = line.split("\t")
        if fields[0] in ("mod", "dep") and len(fields) >= 3:
            if fields[2] != "(devel)":
                out.append(Package(GO, fields[1], fields[2], path))
        elif fields[0] == "=>" and len(fields) >= 3 and out and fields[2]:
            # a replacement with a version (a local-directory one has none)
            out[-1] = Package(GO, fields[1], fields[2], path)
    return out


register(
    Extractor(
        "go-binary",
        lambda p: ".so" not in p.rsplit("/", 1)[-1],
        parse_binary,
        max_bytes=256 * 1024 * 1024,
        executable_only=True,
        magic=_EXEC_MAGICS,
    )
)
