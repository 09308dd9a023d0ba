"""Realistic image tarballs for the extraction benchmarks, built offline from what is on hand.

Both images are `docker save` tarballs (manifest.json, a config, one uncompressed tar per
layer) with five layers and whiteouts, like a real application image:

- Debian 12: this machine's own dpkg database (it is a Debian 12 system) cut to a base set
  (Priority required + important) and an `apt-get install` set, with the packages' real files
  copied from this machine; a `pip install` layer of real dist-info and package trees (from the
  project's virtual environment); an `npm` layer (the real node_modules of this machine's npm);
  a clean-up layer that purges one dpkg package, uninstalls one Python package and empties the
  apt lists with whiteouts.
- Alpine 3.19: the apk database is written here (this machine has no Alpine packages): the
  alpine:3.19 base set and a `apk add python3` set with their real version strings; file
  contents are this machine's Python standard library and stand-in binaries of the right kind
  (ELF executables and libraries). Then the same pip, npm and clean-up layers.

`expected` holds what a correct extractor must find, per ecosystem (whiteouts applied).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sys
import sysconfig
import tarfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

DPKG_STATUS = Path("/var/lib/dpkg/status")
DPKG_INFO = Path("/var/lib/dpkg/info")
NODE_MODULES = Path("/usr/lib/node_modules")
SITE_PACKAGES = Path(sysconfig.get_paths()["purelib"])
STDLIB = Path(sysconfig.get_paths()["stdlib"])
MAX_PIP_PACKAGE = 4 * 1024 * 1024  # larger packages keep their dist-info only (botocore, duckdb…)
REMOVED_PIP = "six"  # uninstalled in the clean-up layer (whiteout of its dist-info)
REMOVED_DPKG = "bc"  # purged in the clean-up layer (status rewritten, files whited out)


@dataclass
class Image:
    """A built image tarball and what is in it."""

    name: str
    path: Path
    expected: Counter[str] = field(default_factory=Counter)
    files: int = 0
    layers: int = 0

    @property
    def megabytes(self) -> float:
        """Size of the tarball in MB (10^6 bytes)."""
        return self.path.stat().st_size / 1e6


class Layer:
    """One layer tar being written, from real files or bytes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tar = tarfile.open(path, "w", format=tarfile.PAX_FORMAT)  # noqa: SIM115 - close()
        self.names: set[str] = set()

    def _dirs(self, name: str) -> None:
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d not in self.names:
                self.names.add(d)
                info = tarfile.TarInfo(d)
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                self.tar.addfile(info)

    def add_bytes(self, name: str, data: bytes, mode: int = 0o644) -> None:
        """A regular file with `data`."""
        if name in self.names:
            return
        self._dirs(name)
        self.names.add(name)
        info = tarfile.TarInfo(name)
        info.size, info.mode = len(data), mode
        self.tar.addfile(info, io.BytesIO(data))

    def add_real(self, name: str, source: Path) -> bool:
        """A copy of a real regular file; False when it is not one or cannot be read."""
        if name in self.names:
            return False
        try:
            st = source.lstat()
            if not source.is_file() or source.is_symlink():
                return False
            with source.open("rb") as fh:
                data = fh.read(st.st_size)
        except OSError:
            return False
        self.add_bytes(name, data, st.st_mode & 0o777)
        return True

    def whiteout(self, name: str) -> None:
        """Deletes `name` from the layers below."""
        parent, _, base = name.rpartition("/")
        self.add_bytes(f"{parent}/.wh.{base}" if parent else f".wh.{base}", b"")

    def opaque(self, directory: str) -> None:
        """Empties `directory` of what the layers below put there."""
        self.add_bytes(f"{directory}/.wh..wh..opq", b"")

    def close(self) -> None:
        """Finishes the tar."""
        self.tar.close()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def docker_save(out: Path, layers: list[Path]) -> None:
    """The `docker save` tarball of these layer tars, laid out as Docker writes it: each layer
    under its digest, a config naming the layers' diff_ids (scanners such as Trivy key their
    layer analysis on them), and manifest.json. Streamed, never held in memory."""
    digests = [_sha256(p) for p in layers]
    names = [f"{d}/layer.tar" for d in digests]
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [f"sha256:{d}" for d in digests]},
            "history": [{"created_by": f"layer {i}"} for i in range(len(layers))],
        }
    ).encode()
    config_name = f"{hashlib.sha256(config).hexdigest()}.json"
    manifest = [{"Config": config_name, "RepoTags": [f"{out.stem}:bench"], "Layers": names}]
    with tarfile.open(out, "w") as tar:
        for name, layer in zip(names, layers, strict=True):
            tar.add(layer, arcname=name)
        for name, data in (
            (config_name, config),
            ("manifest.json", json.dumps(manifest).encode()),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


# --- Debian ---------------------------------------------------------------------------------


def _paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n\n") if p.strip()]


def _field(paragraph: str, name: str) -> str:
    found = re.search(rf"^{name}: (.*)$", paragraph, re.M)
    return found.group(1) if found else ""


def _dpkg_files(paragraph: str) -> list[str]:
    name, arch = _field(paragraph, "Package"), _field(paragraph, "Architecture")
    for listing in (DPKG_INFO / f"{name}:{arch}.list", DPKG_INFO / f"{name}.list"):
        if listing.is_file():
            return [ln.strip() for ln in listing.read_text().splitlines() if ln.strip() != "/."]
    return []


def _add_dpkg(layer: Layer, paragraphs: list[str]) -> int:
    count = 0
    for para in paragraphs:
        name, arch = _field(para, "Package"), _field(para, "Architecture")
        for path in _dpkg_files(para):
            count += layer.add_real(path.lstrip("/"), Path(path))
        for ext in ("list", "md5sums"):
            for info in (DPKG_INFO / f"{name}:{arch}.{ext}", DPKG_INFO / f"{name}.{ext}"):
                if info.is_file():
                    layer.add_real(f"var/lib/dpkg/info/{info.name}", info)
    return count


def _pip_layer(layer: Layer, prefix: str) -> tuple[int, int]:
    """Real dist-info trees and package sources; (files, dist-info packages)."""
    files = packages = 0
    for dist in sorted(SITE_PACKAGES.glob("*.dist-info")):
        if not (dist / "METADATA").is_file():
            continue
        packages += 1
        record = dist / "RECORD"
        entries = [dist / "METADATA"]
        if record.is_file():
            rows = [ln.split(",")[0] for ln in record.read_text(errors="replace").splitlines()]
            paths = [SITE_PACKAGES / r for r in rows if r and not r.startswith("..")]
            size = sum(p.stat().st_size for p in paths if p.is_file())
            entries = paths if size <= MAX_PIP_PACKAGE else [p for p in paths if dist in p.parents]
        for source in entries:
            rel = source.relative_to(SITE_PACKAGES).as_posix()
            files += layer.add_real(f"{prefix}/{rel}", source)
    return files, packages


def _npm_layer(layer: Layer, prefix: str) -> tuple[int, int]:
    files = packages = 0
    for source in sorted(NODE_MODULES.rglob("*")):
        rel = source.relative_to(NODE_MODULES).as_posix()
        if layer.add_real(f"{prefix}/{rel}", source):
            files += 1
            if _is_installed_package(f"{prefix}/{rel}", source):
                packages += 1
    return files, packages


def _is_installed_package(rel: str, source: Path) -> bool:
    """node_modules/<name>/package.json (or @scope/<name>) with a name and a version."""
    if not rel.endswith("/package.json") or "node_modules/" not in rel:
        return False
    tail = rel.rsplit("node_modules/", 1)[1].split("/")
    if len(tail) != (3 if tail[0].startswith("@") else 2):
        return False
    try:
        data = json.loads(source.read_bytes())
    except ValueError:
        return False
    return isinstance(data, dict) and bool(data.get("name")) and bool(data.get("version"))


def debian_image(work: Path, extra_mb: int = 50) -> Image:
    """A Debian 12 application image (see the module docstring)."""
    paras = [
        p for p in _paragraphs(DPKG_STATUS.read_text()) if "install ok installed" in p
    ]  # fmt: skip
    base = [p for p in paras if _field(p, "Priority") in ("required", "important")]
    base_names = {_field(p, "Package") for p in base}
    added: list[str] = []
    budget = extra_mb * 1_000_000
    for para in sorted(paras, key=lambda p: _field(p, "Package")):
        name = _field(para, "Package")
        if name in base_names or not (name.startswith("lib") or name in (REMOVED_DPKG, "curl")):
            continue
        size = sum(os.path.getsize(f) for f in _dpkg_files(para) if os.path.isfile(f))
        if size <= budget and size < 8_000_000:
            added.append(para)
            budget -= size
    if REMOVED_DPKG not in {_field(p, "Package") for p in added}:
        raise SystemExit(f"{REMOVED_DPKG} is not installed here: cannot build the Debian image")
    img = Image("debian", work / "debian-app.tar")
    os_release = Path("/etc/os-release").read_bytes()
    tars = [work / f"debian-{i}.tar" for i in range(5)]

    layer = Layer(tars[0])  # FROM debian:12
    layer.add_bytes("etc/os-release", os_release)
    layer.add_bytes("var/lib/dpkg/status", "\n\n".join(base).encode() + b"\n")
    img.files += _add_dpkg(layer, base)
    layer.close()

    layer = Layer(tars[1])  # RUN apt-get install …
    layer.add_bytes("var/lib/dpkg/status", "\n\n".join(base + added).encode() + b"\n")
    img.files += _add_dpkg(layer, added)
    for i in range(40):  # what `apt-get update` leaves behind
        layer.add_bytes(f"var/lib/apt/lists/deb.debian.org_{i}_Packages", b"Package: x\n" * 5000)
    layer.close()

    layer = Layer(tars[2])  # RUN pip install …
    files, pip = _pip_layer(layer, "usr/local/lib/python3.11/site-packages")
    img.files += files
    layer.close()

    layer = Layer(tars[3])  # RUN npm install …
    files, npm = _npm_layer(layer, "app/node_modules")
    img.files += files
    layer.close()

    layer = Layer(tars[4])  # RUN apt-get purge bc && pip uninstall six && rm -rf lists
    kept = [p for p in base + added if _field(p, "Package") != REMOVED_DPKG]
    layer.add_bytes("var/lib/dpkg/status", "\n\n".join(kept).encode() + b"\n")
    purged = next(p for p in added if _field(p, "Package") == REMOVED_DPKG)
    for path in _dpkg_files(purged):
        if os.path.isfile(path):
            layer.whiteout(path.lstrip("/"))
    layer.opaque("var/lib/apt/lists")
    removed = _pip_whiteouts(layer, "usr/local/lib/python3.11/site-packages")
    layer.close()

    docker_save(img.path, tars)
    for t in tars:
        t.unlink()
    img.layers = len(tars)
    img.expected.update({"Debian:12": len(kept), "PyPI": pip - removed, "npm": npm})
    return img


def _pip_whiteouts(layer: Layer, prefix: str) -> int:
    removed = 0
    for dist in SITE_PACKAGES.glob("*.dist-info"):
        if dist.name.lower().startswith(f"{REMOVED_PIP}-"):
            layer.whiteout(f"{prefix}/{dist.name}")
            removed += 1
    return removed


# --- Alpine ---------------------------------------------------------------------------------

# alpine:3.19.1 and `apk add python3` (name, version, origin, files), as Alpine ships them.
ALPINE_BASE = [
    ("alpine-baselayout", "3.4.3-r2", "alpine-baselayout", ["etc/profile", "etc/shells"]),
    ("alpine-baselayout-data", "3.4.3-r2", "alpine-baselayout", ["etc/group", "etc/passwd"]),
    ("alpine-keys", "2.4-r1", "alpine-keys", [f"usr/share/apk/keys/k{i}.pub" for i in range(8)]),
    ("apk-tools", "2.14.0-r5", "apk-tools", ["sbin/apk", "lib/libapk.so.2.14.0"]),
    ("busybox", "1.36.1-r15", "busybox", ["bin/busybox", "etc/securetty"]),
    ("busybox-binsh", "1.36.1-r15", "busybox", ["bin/sh"]),
    ("ca-certificates-bundle", "20230506-r0", "ca-certificates", ["etc/ssl/certs/ca.crt"]),
    ("libc-utils", "0.7.2-r5", "libc-dev", []),
    ("libcrypto3", "3.1.4-r5", "openssl", ["lib/libcrypto.so.3", "usr/lib/engines-3/afalg.so"]),
    ("libssl3", "3.1.4-r5", "openssl", ["lib/libssl.so.3"]),
    ("musl", "1.2.4_git20230717-r4", "musl", ["lib/ld-musl-x86_64.so.1"]),
    ("musl-utils", "1.2.4_git20230717-r4", "musl", ["sbin/ldconfig", "usr/bin/getent"]),
    ("scanelf", "1.3.7-r2", "pax-utils", ["usr/bin/scanelf"]),
    ("ssl_client", "1.36.1-r15", "busybox", ["usr/bin/ssl_client"]),
    ("zlib", "1.3.1-r0", "zlib", ["lib/libz.so.1.3.1"]),
]
ALPINE_PYTHON = [
    ("libbz2", "1.0.8-r6", "bzip2", ["usr/lib/libbz2.so.1.0.8"]),
    ("libexpat", "2.6.0-r0", "expat", ["usr/lib/libexpat.so.1.8.10"]),
    ("libffi", "3.4.4-r3", "libffi", ["usr/lib/libffi.so.8.1.2"]),
    ("gdbm", "1.23-r1", "gdbm", ["usr/lib/libgdbm.so.6.0.0"]),
    ("xz-libs", "5.4.5-r0", "xz", ["usr/lib/liblzma.so.5.4.5"]),
    ("libgcc", "13.2.1_git20231014-r0", "gcc", ["usr/lib/libgcc_s.so.1"]),
    ("libstdc++", "13.2.1_git20231014-r0", "gcc", ["usr/lib/libstdc++.so.6.0.32"]),
    ("mpdecimal", "2.5.1-r2", "mpdecimal", ["usr/lib/libmpdec.so.3"]),
    ("ncurses-terminfo-base", "6.4_p20231125-r0", "ncurses", ["etc/terminfo/x/xterm"]),
    ("libncursesw", "6.4_p20231125-r0", "ncurses", ["usr/lib/libncursesw.so.6.4"]),
    ("libpanelw", "6.4_p20231125-r0", "ncurses", ["usr/lib/libpanelw.so.6.4"]),
    ("readline", "8.2.1-r2", "readline", ["usr/lib/libreadline.so.8.2"]),
    ("sqlite-libs", "3.44.2-r0", "sqlite", ["usr/lib/libsqlite3.so.0.8.6"]),
    ("libuuid", "2.39.3-r0", "util-linux", ["lib/libuuid.so.1.3.0"]),
    ("python3", "3.11.8-r0", "python3", ["usr/bin/python3.11"]),  # + the standard library
    ("python3-pycache-pyc0", "3.11.8-r0", "python3", []),
    ("pyc", "3.11.8-r0", "python3", []),
    ("python3-pyc", "3.11.8-r0", "python3", []),
    ("nodejs", "20.11.1-r0", "nodejs", ["usr/bin/node"]),
    ("npm", "10.2.5-r0", "npm", []),
    ("ca-certificates", "20230506-r0", "ca-certificates", ["usr/bin/update-ca-certificates"]),
    ("libcurl", "8.5.0-r0", "curl", ["usr/lib/libcurl.so.4.8.0"]),
    ("curl", "8.5.0-r0", "curl", ["usr/bin/curl"]),
    ("brotli-libs", "1.1.0-r1", "brotli", ["usr/lib/libbrotlicommon.so.1.1.0"]),
    ("c-ares", "1.24.0-r1", "c-ares", ["usr/lib/libcares.so.2.7.1"]),
    ("libidn2", "2.3.4-r4", "libidn2", ["usr/lib/libidn2.so.0.3.8"]),
    ("libunistring", "1.1-r2", "libunistring", ["usr/lib/libunistring.so.5.0.0"]),
    ("nghttp2-libs", "1.58.0-r0", "nghttp2", ["usr/lib/libnghttp2.so.14.25.1"]),
    ("libpsl", "0.21.5-r0", "libpsl", ["usr/lib/libpsl.so.5.3.4"]),
    ("zstd-libs", "1.5.5-r8", "zstd", ["usr/lib/libzstd.so.1.5.5"]),
    ("icu-libs", "74.1-r0", "icu", ["usr/lib/libicuuc.so.74.1", "usr/lib/libicudata.so.74.1"]),
    ("icu-data-en", "74.1-r0", "icu", ["usr/share/icu/74.1/icudt74l.dat"]),
]


def _standins() -> Iterator[Path]:
    """ELF executables and shared libraries of this machine, used as file contents."""
    pools = [Path("/usr/bin"), Path("/usr/lib/x86_64-linux-gnu")]
    for pool in pools:
        for path in sorted(pool.iterdir()):
            if path.is_file() and not path.is_symlink() and path.stat().st_size > 20_000:
                with path.open("rb") as fh:
                    if fh.read(4) == b"\x7fELF":
                        yield path


def _apk_record(name: str, version: str, origin: str, files: list[str]) -> str:
    lines = [
        f"C:Q1{hashlib.sha1(name.encode()).hexdigest()[:27]}=",
        f"P:{name}",
        f"V:{version}",
        "A:x86_64",
        "S:100000",
        "I:300000",
        f"T:{name} package",
        "U:https://alpinelinux.org",
        "L:MIT",
        f"o:{origin}",
        "m:Alpine maintainers",
        "t:1706000000",
        "c:0123456789abcdef0123456789abcdef01234567",
    ]
    current = None
    for path in sorted(files):
        folder, _, base = path.rpartition("/")
        if folder != current:
            lines.append(f"F:{folder}")
            current = folder
        lines += [f"R:{base}", f"Z:Q1{hashlib.sha1(path.encode()).hexdigest()[:27]}="]
    return "\n".join(lines) + "\n"


def alpine_image(work: Path) -> Image:
    """An Alpine 3.19 application image (see the module docstring)."""
    img = Image("alpine", work / "alpine-app.tar")
    standins = _standins()
    stdlib = [
        p for p in sorted(STDLIB.rglob("*"))
        if p.is_file() and not {"site-packages", "__pycache__", "test", "idle_test"} & set(p.parts)
    ]  # fmt: skip
    stdlib_rel = [f"usr/lib/python3.11/{p.relative_to(STDLIB).as_posix()}" for p in stdlib]
    tars = [work / f"alpine-{i}.tar" for i in range(5)]
    records: list[str] = []

    def install(layer: Layer, packages: list[tuple[str, str, str, list[str]]]) -> None:
        for name, version, origin, files in packages:
            listed = list(files)
            for rel in files:
                executable = "/bin/" in f"/{rel}" or rel.endswith((".so", ".1")) or ".so." in rel
                if executable:
                    img.files += layer.add_real(rel, next(standins))
                else:
                    layer.add_bytes(rel, f"# {name} {rel}\n".encode() * 20)
                    img.files += 1
            if name == "python3":
                for rel, source in zip(stdlib_rel, stdlib, strict=True):
                    img.files += layer.add_real(rel, source)
                listed += stdlib_rel
            records.append(_apk_record(name, version, origin, listed))

    layer = Layer(tars[0])  # FROM alpine:3.19
    layer.add_bytes(
        "etc/os-release",
        b'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\n'
        b'PRETTY_NAME="Alpine Linux v3.19"\nHOME_URL="https://alpinelinux.org/"\n',
    )
    install(layer, ALPINE_BASE)
    layer.add_bytes("lib/apk/db/installed", "\n".join(records).encode() + b"\n")
    layer.close()

    layer = Layer(tars[1])  # RUN apk add python3 nodejs npm curl
    install(layer, ALPINE_PYTHON)
    layer.add_bytes("lib/apk/db/installed", "\n".join(records).encode() + b"\n")
    for i in range(10):
        layer.add_bytes(f"var/cache/apk/APKINDEX.{i:08x}.tar.gz", os.urandom(200_000))
    layer.close()

    layer = Layer(tars[2])  # RUN pip install …
    files, pip = _pip_layer(layer, "usr/lib/python3.11/site-packages")
    img.files += files
    layer.close()

    layer = Layer(tars[3])  # RUN npm install …
    files, npm = _npm_layer(layer, "app/node_modules")
    img.files += files
    layer.close()

    layer = Layer(tars[4])  # RUN pip uninstall six && rm -rf /var/cache/apk/*
    layer.opaque("var/cache/apk")
    removed = _pip_whiteouts(layer, "usr/lib/python3.11/site-packages")
    layer.close()

    docker_save(img.path, tars)
    for t in tars:
        t.unlink()
    img.layers = len(tars)
    img.expected.update(
        {"Alpine:v3.19": len(ALPINE_BASE) + len(ALPINE_PYTHON), "PyPI": pip - removed, "npm": npm}
    )
    return img


def build(work: Path) -> list[Image]:
    """Both images, written under `work`."""
    work.mkdir(parents=True, exist_ok=True)
    return [debian_image(work), alpine_image(work)]


if __name__ == "__main__":
    for image in build(Path(sys.argv[1] if len(sys.argv) > 1 else "out/bench-images")):
        print(
            image.name, image.path, f"{image.megabytes:.0f} MB", image.files, dict(image.expected)
        )
