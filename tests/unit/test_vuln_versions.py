"""Version orderings per ecosystem, from each ecosystem's documented examples."""

from __future__ import annotations

import pytest

from opencwpp.vuln.errors import InvalidVersionError
from opencwpp.vuln.versions import ORDERINGS, comparator_for, ordering_of

# (ordering, lower, higher): each pair must compare -1 / 1, never by string.
ASCENDING = [
    ("pep440", "1.0.dev1", "1.0a1"),
    ("pep440", "1.0a1", "1.0b1"),
    ("pep440", "1.0rc1", "1.0"),
    ("pep440", "1.0", "1.0.post1"),
    ("pep440", "1.9", "1.10"),
    ("pep440", "2.0", "1!0.1"),
    ("dpkg", "1.0~rc1", "1.0"),
    ("dpkg", "1.0~~", "1.0~"),
    ("dpkg", "1.0", "1.0+b1"),
    ("dpkg", "1.0-1", "1.0-1ubuntu1"),
    ("dpkg", "2.30-1", "2.30-1+deb12u1"),
    ("dpkg", "9.9", "1:0.1"),
    ("dpkg", "3.0.11-1~deb12u1", "3.0.11-1~deb12u2"),
    ("dpkg", "1.2.9", "1.2.10"),
    ("rpm", "1.0~rc1", "1.0"),
    ("rpm", "1.0", "1.0^git1"),
    ("rpm", "1.0^git1", "1.0.1"),
    ("rpm", "1.0a", "1.0.1"),
    ("rpm", "3.0.7-24.el9", "3.0.7-27.el9"),
    ("rpm", "2.34-60.el9", "2.34-100.el9"),
    ("rpm", "9.0-1", "1:1.0-1"),
    ("rpm", "1.0-1.el9", "1.0-1.el9_2"),
    ("apk", "1.2.3_rc1", "1.2.3"),
    ("apk", "1.2.3_alpha", "1.2.3_beta"),
    ("apk", "1.2.3", "1.2.3_p1"),
    ("apk", "1.2.3-r1", "1.2.3-r2"),
    ("apk", "1.2", "1.2a"),
    ("apk", "1.2a", "1.2.1"),
    ("apk", "3.0.8-r0", "3.0.10-r0"),
    ("semver", "1.0.0-alpha", "1.0.0-alpha.1"),
    ("semver", "1.0.0-alpha.1", "1.0.0-alpha.beta"),
    ("semver", "1.0.0-alpha.beta", "1.0.0-beta"),
    ("semver", "1.0.0-beta.2", "1.0.0-beta.11"),
    ("semver", "1.0.0-rc.1", "1.0.0"),
    ("semver", "v1.9.0", "v1.10.0"),
    ("semver", "v0.0.0-20210101000000-abcdef", "v0.0.1"),
    ("maven", "1", "1.1"),
    ("maven", "1-snapshot", "1"),
    ("maven", "1", "1-sp"),
    ("maven", "1-foo2", "1-foo10"),
    ("maven", "1-1", "1.1"),
    ("maven", "1-ga", "1-sp"),
    ("maven", "1-ga.1", "1-sp.1"),
    ("maven", "1-sp-1", "1-ga-1"),
    ("maven", "1.0-alpha-1", "1.0-beta-1"),
    ("maven", "1.0-rc1", "1.0"),
    ("maven", "2.0-m1", "2.0-rc1"),
    ("gem", "1.0.a", "1.0"),
    ("gem", "1.0.0.pre", "1.0.0"),
    ("gem", "1.9", "1.10"),
]
EQUAL = [
    ("pep440", "1.0", "1.0.0"),
    ("dpkg", "0:1.0", "1.0"),
    ("rpm", "0:1.0-1", "1.0-1"),
    ("semver", "1.0.0+build.1", "1.0.0+build.2"),
    ("maven", "1.ga", "1"),
    ("maven", "1-0", "1.0"),
    ("maven", "1-a1", "1-alpha-1"),
    ("gem", "1.0", "1.0.0"),
]


@pytest.mark.parametrize(("ordering", "low", "high"), ASCENDING)
def test_documented_order(ordering: str, low: str, high: str) -> None:
    cmp = ORDERINGS[ordering]
    assert cmp(low, high) == -1
    assert cmp(high, low) == 1


@pytest.mark.parametrize(("ordering", "a", "b"), EQUAL)
def test_documented_equality(ordering: str, a: str, b: str) -> None:
    assert ORDERINGS[ordering](a, b) == 0


def test_not_string_order() -> None:
    # "1.10" < "1.9" as strings; every ordering must say otherwise.
    for name in ("pep440", "dpkg", "rpm", "apk", "semver", "maven", "gem"):
        assert ORDERINGS[name]("1.9", "1.10") == -1, name


@pytest.mark.parametrize(
    ("ordering", "bad"),
    [("pep440", "0.1-bulbasaur"), ("semver", "1.x"), ("apk", "abc"), ("dpkg", "a:1")],
)
def test_invalid_versions_raise(ordering: str, bad: str) -> None:
    with pytest.raises(InvalidVersionError):
        ORDERINGS[ordering](bad, "1.0")


def test_ecosystem_to_ordering() -> None:
    assert ordering_of("Debian:12") == "dpkg"
    assert ordering_of("AlmaLinux:9") == "rpm"
    assert ordering_of("Alpine:v3.20") == "apk"
    assert ordering_of("crates.io") == "semver"
    assert comparator_for("NoSuchEcosystem") is None
