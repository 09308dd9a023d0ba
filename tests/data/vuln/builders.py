"""Builders of small, real-format inputs for the vulnerability tests (written under tmp_path)."""

from __future__ import annotations

import io
import json
import sqlite3
import struct
import tarfile
import zipfile
from pathlib import Path

DPKG_STATUS = """\
Package: libssl3
Status: install ok installed
Version: 3.0.11-1~deb12u1
Source: openssl
Architecture: amd64

Package: openssl
Status: install ok installed
Version: 3.0.11-1~deb12u1

Package: zlib1g
Status: install ok installed
Source: zlib (1:1.2.13.dfsg-1)
Version: 1:1.2.13.dfsg-1+b1

Package: removed-pkg
Status: deinstall ok config-files
Version: 1.0-1
"""

APK_INSTALLED = """\
C:Q1abc=
P:libcrypto3
V:3.1.4-r0
o:openssl

P:busybox
V:1.36.1-r15
o:busybox
"""


def write(root: Path, rel: str, data: bytes | str, mode: int = 0o644) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    path.chmod(mode)
    return path


def rpm_header(name: str, version: str, release: str, epoch: int | None = None) -> bytes:
    """An rpm header blob (as rpmdb.sqlite stores it) with NAME/VERSION/RELEASE/EPOCH/SOURCERPM."""
    entries: list[tuple[int, int, bytes]] = [
        (1000, 6, name.encode() + b"\0"),
        (1001, 6, version.encode() + b"\0"),
        (1002, 6, release.encode() + b"\0"),
        (1044, 6, f"{name}-{version}-{release}.src.rpm".encode() + b"\0"),
    ]
    if epoch is not None:
        entries.append((1003, 4, struct.pack(">i", epoch)))
    data, index = b"", b""
    for tag, kind, value in entries:
        while kind == 4 and len(data) % 4:
            data += b"\0"
        index += struct.pack(">iIiI", tag, kind, len(data), 1)
        data += value
    return struct.pack(">II", len(entries), len(data)) + index + data


def rpmdb(path: Path, packages: list[tuple[str, str, str, int | None]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB)")
    for name, version, release, epoch in packages:
        conn.execute(
            "INSERT INTO Packages (blob) VALUES (?)", [rpm_header(name, version, release, epoch)]
        )
    conn.execute("INSERT INTO Packages (blob) VALUES (?)", [rpm_header("gpg-pubkey", "1", "2")])
    conn.commit()
    conn.close()


def _varint(n: int) -> bytes:
    out = b""
    while True:
        byte = n & 0x7F
        n >>= 7
        out += bytes([byte | (0x80 if n else 0)])
        if not n:
            return out


def go_binary(deps: list[tuple[str, str]], go: str = "go1.21.0") -> bytes:
    """An ELF-looking file with Go >= 1.18 inline build info."""
    sentinel = bytes(range(16))
    mod = "path\texample.com/app\nmod\texample.com/app\t(devel)\t\n"
    mod += "".join(f"dep\t{p}\t{v}\th1:x=\n" for p, v in deps)
    modinfo = sentinel + mod.encode() + sentinel
    header = b"\xff Go buildinf:" + bytes([8, 2]) + b"\0" * 16
    blob = header + _varint(len(go)) + go.encode() + _varint(len(modinfo)) + modinfo
    return b"\x7fELF" + b"\0" * 60 + blob + b"\0" * 32


def jar(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def pom_jar(
    group: str, artifact: str, version: str, nested: dict[str, bytes] | None = None
) -> bytes:
    props = f"groupId={group}\nartifactId={artifact}\nversion={version}\n".encode()
    entries = {f"META-INF/maven/{group}/{artifact}/pom.properties": props}
    entries.update(nested or {})
    return jar(entries)


def debian_rootfs(root: Path) -> Path:
    """A small Debian 12 root file system with OS and language packages."""
    write(
        root,
        "etc/os-release",
        'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n',
    )
    write(root, "var/lib/dpkg/status", DPKG_STATUS)
    site = "usr/lib/python3/dist-packages"
    write(
        root,
        f"{site}/Django-3.2.0.dist-info/METADATA",
        "Metadata-Version: 2.1\nName: Django\nVersion: 3.2.0\n\nbody",
    )
    write(
        root,
        "app/node_modules/lodash/package.json",
        json.dumps({"name": "lodash", "version": "4.17.20"}),
    )
    write(
        root,
        "app/Gemfile.lock",
        "GEM\n  remote: x\n  specs:\n    rack (2.2.3)\n      foo (>= 1)\n\n",
    )
    write(
        root,
        "app/Cargo.lock",
        '[[package]]\nname = "smallvec"\nversion = "1.6.0"\nsource = "registry+https://x"\n',
    )
    write(
        root,
        "app/composer.lock",
        json.dumps({"packages": [{"name": "guzzlehttp/guzzle", "version": "7.4.0"}]}),
    )
    write(
        root,
        "app/packages.lock.json",
        json.dumps(
            {
                "version": 1,
                "dependencies": {
                    "net6.0": {"Newtonsoft.Json": {"type": "Direct", "resolved": "12.0.1"}}
                },
            }
        ),
    )
    inner = pom_jar("org.yaml", "snakeyaml", "1.33")
    write(
        root,
        "opt/app.jar",
        pom_jar("com.example", "app", "1.0.0", {"BOOT-INF/lib/snakeyaml-1.33.jar": inner}),
    )
    write(root, "usr/local/bin/gobin", go_binary([("golang.org/x/net", "v0.7.0")]), mode=0o755)
    return root


def tar_bytes(files: dict[str, bytes | None], extra: list[tarfile.TarInfo] | None = None) -> bytes:
    """A tar of files (None = directory)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                info.mode = 0o755 if name.endswith("bin") else 0o644
                tar.addfile(info, io.BytesIO(data))
        for info in extra or []:
            tar.addfile(info)
    return buf.getvalue()


def docker_save(path: Path, layers: list[bytes], gzip_layers: bool = False) -> Path:
    files: dict[str, bytes | None] = {}
    names = []
    for i, layer in enumerate(layers):
        if gzip_layers:
            import gzip

            layer = gzip.compress(layer)
        name = f"layer{i}/layer.tar"
        files[name] = layer
        names.append(name)
    files["manifest.json"] = json.dumps(
        [{"Config": "c.json", "RepoTags": ["demo:1"], "Layers": names}]
    ).encode()
    files["c.json"] = b"{}"
    path.write_bytes(tar_bytes(files))
    return path


def oci_layout(path: Path, layers: list[bytes]) -> Path:
    import hashlib

    files: dict[str, bytes | None] = {"oci-layout": b'{"imageLayoutVersion": "1.0.0"}'}
    digests = []
    for layer in layers:
        d = hashlib.sha256(layer).hexdigest()
        files[f"blobs/sha256/{d}"] = layer
        digests.append(d)
    manifest = json.dumps(
        {"schemaVersion": 2, "layers": [{"digest": f"sha256:{d}", "size": 1} for d in digests]}
    ).encode()
    md = hashlib.sha256(manifest).hexdigest()
    files[f"blobs/sha256/{md}"] = manifest
    files["index.json"] = json.dumps(
        {"schemaVersion": 2, "manifests": [{"digest": f"sha256:{md}"}]}
    ).encode()
    path.write_bytes(tar_bytes(files))
    return path
