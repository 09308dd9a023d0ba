"""Inventory extraction: OS and language package databases, images, zips, SBOMs, bad input."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest

from opencwpp.vuln.errors import BadInputError
from opencwpp.vuln.extract.base import REGISTRY
from opencwpp.vuln.inventory import inventory
from opencwpp.vuln.targets.safety import Budget, safe_relpath
from tests.data.vuln import builders as b


def _pkgs(path: Path) -> dict[tuple[str, str], str]:
    return {(p.ecosystem, p.name): p.version for p in inventory(path).packages}


def test_debian_rootfs_every_ecosystem(tmp_path: Path) -> None:
    inv = inventory(b.debian_rootfs(tmp_path / "root"))
    assert inv.os is not None and inv.os.ecosystem == "Debian:12"
    found = {(p.ecosystem, p.name): p for p in inv.packages}
    assert found[("Debian:12", "libssl3")].source_name == "openssl"
    assert found[("Debian:12", "zlib1g")].source_version == "1:1.2.13.dfsg-1"
    assert ("Debian:12", "removed-pkg") not in found  # deinstalled: not a package
    expected = {
        ("PyPI", "Django"): "3.2.0",
        ("npm", "lodash"): "4.17.20",
        ("RubyGems", "rack"): "2.2.3",
        ("crates.io", "smallvec"): "1.6.0",
        ("Packagist", "guzzlehttp/guzzle"): "7.4.0",
        ("NuGet", "Newtonsoft.Json"): "12.0.1",
        ("Maven", "com.example:app"): "1.0.0",
        ("Maven", "org.yaml:snakeyaml"): "1.33",
        ("Go", "golang.org/x/net"): "v0.7.0",
        ("Go", "stdlib"): "1.21.0",
    }
    for key, version in expected.items():
        assert found[key].version == version, key
    assert (
        found[("Maven", "org.yaml:snakeyaml")].path == "opt/app.jar!BOOT-INF/lib/snakeyaml-1.33.jar"
    )
    assert found[("PyPI", "Django")].purl == "pkg:pypi/django@3.2.0"
    assert inv.problems == []


def test_rpm_sqlite_and_apk(tmp_path: Path) -> None:
    alma = tmp_path / "alma"
    b.write(alma, "etc/os-release", 'ID="almalinux"\nVERSION_ID="9.4"\n')
    b.rpmdb(
        alma / "var/lib/rpm/rpmdb.sqlite",
        [("openssl", "3.0.7", "24.el9", 1), ("bash", "5.1.8", "6.el9", None)],
    )
    assert _pkgs(alma) == {
        ("AlmaLinux:9", "openssl"): "1:3.0.7-24.el9",
        ("AlmaLinux:9", "bash"): "5.1.8-6.el9",
    }
    alpine = tmp_path / "alpine"
    b.write(alpine, "etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n")
    b.write(alpine, "lib/apk/db/installed", b.APK_INSTALLED)
    inv = inventory(alpine)
    assert {(p.ecosystem, p.name, p.source_name) for p in inv.packages} == {
        ("Alpine:v3.19", "libcrypto3", "openssl"),
        ("Alpine:v3.19", "busybox", "busybox"),
    }


def test_os_packages_without_os_release_match_nothing(tmp_path: Path) -> None:
    b.write(tmp_path, "var/lib/dpkg/status", b.DPKG_STATUS)
    assert {p.ecosystem for p in inventory(tmp_path).packages} == {"Debian"}


def test_python_and_npm_lock_files(tmp_path: Path) -> None:
    b.write(
        tmp_path,
        "requirements.txt",
        "flask==2.0.1\nrequests>=2\n# c\nJinja2[i18n] == 3.0.0 ; python_version > '3'\n",
    )
    b.write(tmp_path, "poetry.lock", '[[package]]\nname = "urllib3"\nversion = "1.26.4"\n')
    b.write(
        tmp_path,
        "web/package-lock.json",
        json.dumps(
            {
                "lockfileVersion": 3,
                "packages": {
                    "": {"name": "web"},
                    "node_modules/minimist": {"version": "1.2.5"},
                    "node_modules/@scope/x": {"version": "2.0.0"},
                },
            }
        ),
    )
    b.write(
        tmp_path,
        "old/package-lock.json",
        json.dumps(
            {
                "lockfileVersion": 1,
                "dependencies": {
                    "ms": {"version": "2.0.0", "dependencies": {"debug": {"version": "2.6.8"}}}
                },
            }
        ),
    )
    found = _pkgs(tmp_path)
    assert found[("PyPI", "flask")] == "2.0.1" and found[("PyPI", "Jinja2")] == "3.0.0"
    assert ("PyPI", "requests") not in found  # a range is not an installed version
    assert found[("PyPI", "urllib3")] == "1.26.4"
    assert found[("npm", "minimist")] == "1.2.5" and found[("npm", "@scope/x")] == "2.0.0"
    assert found[("npm", "debug")] == "2.6.8"


def test_corrupt_files_are_reported_and_the_scan_goes_on(tmp_path: Path) -> None:
    b.write(tmp_path, "a/package-lock.json", "{not json")
    b.write(tmp_path, "b/Cargo.lock", "[[package]\n")
    b.write(tmp_path, "lib.jar", b"PK\x03\x04 truncated")
    b.write(tmp_path, "ok/Gemfile.lock", "GEM\n  specs:\n    rack (2.2.3)\n")
    inv = inventory(tmp_path)
    assert [p.name for p in inv.packages] == ["rack"]
    assert len(inv.problems) == 3
    assert any("a/package-lock.json" in p and "npm-lock" in p for p in inv.problems)


def test_lock_files_nested_beyond_the_stack_are_reported_and_the_scan_goes_on(
    tmp_path: Path,
) -> None:
    """A crafted image's lock file must not stop the scan of everything else in it."""
    deep = "[" * 100_000 + "]" * 100_000
    b.write(tmp_path, "a/package-lock.json", '{"lockfileVersion": 3, "packages": ' + deep + "}")
    b.write(tmp_path, "b/composer.lock", '{"packages": ' + deep + "}")
    b.write(tmp_path, "ok/Gemfile.lock", "GEM\n  specs:\n    rack (2.2.3)\n")
    inv = inventory(tmp_path)
    assert [p.name for p in inv.packages] == ["rack"]
    unreadable = sorted(p.split(":")[1] for p in inv.problems)
    assert unreadable == ["a/package-lock.json", "b/composer.lock"]
    sbom = tmp_path / "deep.cdx.json"
    sbom.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": ' + deep + "}")
    with pytest.raises(BadInputError, match="nested too deeply"):
        inventory(sbom)


def _layer(files: dict[str, bytes | None], extra: list[tarfile.TarInfo] | None = None) -> bytes:
    return b.tar_bytes(files, extra)


def _whiteout_layers() -> list[bytes]:
    base = _layer(
        {
            "etc/os-release": b"ID=debian\nVERSION_ID=12\n",
            "var/lib/dpkg/status": b.DPKG_STATUS.encode(),
            "app/old/Gemfile.lock": b"GEM\n  specs:\n    rack (2.2.3)\n",
            "app/opaque/Cargo.lock": (
                b'[[package]]\nname = "smallvec"\nversion = "1.6.0"\nsource = "registry+x"\n'
            ),
        }
    )
    top = _layer(
        {
            "app/.wh.old": b"",
            "app/opaque/.wh..wh..opq": b"",
            "app/site/Django-4.0.dist-info/METADATA": b"Name: Django\nVersion: 4.0\n",
        }
    )
    return [base, top]


@pytest.mark.parametrize("layout", ["docker", "oci"])
def test_image_layers_with_whiteouts(tmp_path: Path, layout: str) -> None:
    path = tmp_path / "img.tar"
    if layout == "docker":
        b.docker_save(path, _whiteout_layers(), gzip_layers=True)
    else:
        b.oci_layout(path, _whiteout_layers())
    inv = inventory(path)
    names = {p.name: p for p in inv.packages}
    assert inv.kind == "image" and inv.os is not None
    assert "rack" not in names and "smallvec" not in names  # whiteout and opaque dir
    assert names["Django"].layer and names["Django"].layer != names["openssl"].layer
    assert names["openssl"].ecosystem == "Debian:12"


def test_image_path_traversal_is_refused(tmp_path: Path) -> None:
    evil = tarfile.TarInfo("../../escape/Gemfile.lock")
    evil.size = 0
    layer = _layer({"ok/Gemfile.lock": b"GEM\n  specs:\n    rack (2.2.3)\n"}, [evil])
    path = b.docker_save(tmp_path / "img.tar", [layer])
    inv = inventory(path)
    assert any("path traversal refused" in p for p in inv.problems)
    assert not (tmp_path.parent / "escape").exists()
    assert [p.name for p in inv.packages] == ["rack"]


def test_corrupt_and_truncated_images(tmp_path: Path) -> None:
    import gzip

    base, top = _whiteout_layers()
    cut = gzip.compress(top)[:40]  # a truncated gzip layer
    path = b.docker_save(tmp_path / "trunc.tar", [base, cut])
    with pytest.raises(BadInputError, match=r"trunc\.tar: .*(corrupt|truncated|not a)"):
        inventory(path)
    half = tmp_path / "half.tar"
    half.write_bytes(path.read_bytes()[:1500])
    with pytest.raises(BadInputError, match=r"half\.tar"):
        inventory(half)
    notes = tmp_path / "notes.bin"
    notes.write_bytes(b"\x00garbage")
    with pytest.raises(
        BadInputError, match="not a directory, image tarball, zip, SBOM file or disk image"
    ):
        inventory(notes)


def test_archive_bombs_are_bounded() -> None:
    budget = Budget("x.tar", max_bytes=100, max_entries=3)
    budget.take(60)
    with pytest.raises(BadInputError, match="bomb"):
        budget.take(60)
    entries = Budget("y.zip", max_entries=1)
    entries.take(0)
    with pytest.raises(BadInputError, match="entries"):
        entries.take(0)


@pytest.mark.parametrize("name", ["/etc/passwd", "../x", "a/../../x", "C:/x"])
def test_unsafe_member_names(name: str) -> None:
    assert safe_relpath(name) is None


def test_lambda_zip(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("requests-2.25.0.dist-info/METADATA", "Name: requests\nVersion: 2.25.0\n")
        z.writestr("../evil/METADATA", "Name: evil\nVersion: 1\n")
        z.writestr("handler.py", "print()")
    path = tmp_path / "fn.zip"
    path.write_bytes(buf.getvalue())
    inv = inventory(path)
    assert [(p.name, p.version) for p in inv.packages] == [("requests", "2.25.0")]
    assert any("path traversal refused" in p for p in inv.problems)
    corrupt = tmp_path / "bad.zip"
    corrupt.write_bytes(buf.getvalue()[:-30])
    with pytest.raises(BadInputError, match=r"bad\.zip"):
        inventory(corrupt)


def test_sbom_inputs(tmp_path: Path) -> None:
    cdx = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "components": [
            {
                "type": "library",
                "name": "django",
                "version": "3.2.0",
                "purl": "pkg:pypi/django@3.2.0",
            },
            {"type": "library", "name": "x", "purl": "pkg:unknown/x@1"},
            {
                "type": "library",
                "name": "openssl",
                "purl": "pkg:deb/debian/openssl@3.0.11-1~deb12u1?distro=debian-12",
            },
        ],
    }
    spdx = {
        "spdxVersion": "SPDX-2.3",
        "packages": [
            {
                "name": "lodash",
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": "pkg:npm/lodash@4.17.20",
                    }
                ],
            }
        ],
    }
    b.write(tmp_path, "c.json", json.dumps(cdx))
    b.write(tmp_path, "s.json", json.dumps(spdx))
    b.write(tmp_path, "bad.json", '{"bomFormat": "CycloneDX", "components": [')
    cinv = inventory(tmp_path / "c.json")
    assert {(p.ecosystem, p.name) for p in cinv.packages} == {
        ("PyPI", "django"),
        ("Debian:12", "openssl"),
    }
    assert len(cinv.problems) == 1  # the unsupported purl, named
    assert [(p.ecosystem, p.name) for p in inventory(tmp_path / "s.json").packages] == [
        ("npm", "lodash")
    ]
    with pytest.raises(BadInputError, match=r"bad\.json: malformed SBOM"):
        inventory(tmp_path / "bad.json")


def test_registry_is_complete() -> None:
    assert {
        "dpkg",
        "apk",
        "rpm-sqlite",
        "python-metadata",
        "npm-lock",
        "npm-installed",
        "go-binary",
        "java-archive",
        "gemfile-lock",
        "cargo-lock",
        "composer",
        "nuget-lock",
        "dotnet-deps",
    } <= set(REGISTRY)
