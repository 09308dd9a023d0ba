"""OSV range evaluation per the OSV schema, and the PyPI `versions` lists as ground truth."""

from __future__ import annotations

import json
from typing import Any

from opencwpp.vuln.errors import InvalidVersionError
from opencwpp.vuln.osv.ranges import events_of, in_events, match_entry, range_comparator
from tests.conftest import require_shared


def _entry(events: list[dict[str, str]], kind: str = "ECOSYSTEM", **extra: Any) -> dict[str, Any]:
    return {"ranges": [{"type": kind, "events": events}], **extra}


def test_introduced_fixed_is_half_open() -> None:
    entry = _entry([{"introduced": "1.0"}, {"fixed": "1.5"}])
    assert match_entry("1.0", entry, "PyPI") is not None
    assert match_entry("1.4.9", entry, "PyPI") is not None
    assert match_entry("1.5", entry, "PyPI") is None  # near miss: the fixed version
    assert match_entry("0.9", entry, "PyPI") is None


def test_last_affected_is_inclusive() -> None:
    entry = _entry([{"introduced": "0"}, {"last_affected": "2.0"}])
    assert match_entry("2.0", entry, "PyPI") is not None
    assert match_entry("2.0.1", entry, "PyPI") is None


def test_events_are_sorted_before_walking() -> None:
    # Unsorted events (as 70 upstream PyPI ranges have): two intervals [0, 1.0) and [2.0, 2.5).
    entry = _entry([{"fixed": "2.5"}, {"introduced": "2.0"}, {"fixed": "1.0"}, {"introduced": "0"}])
    assert match_entry("0.5", entry, "PyPI") is not None
    assert match_entry("1.5", entry, "PyPI") is None
    assert match_entry("2.1", entry, "PyPI") is not None


def test_adjacent_intervals_at_a_tie() -> None:
    # fixed 3.1.1 then introduced 3.1.1 (pyspark PYSEC-2022-236): 3.1.1 is affected.
    entry = _entry(
        [{"introduced": "0"}, {"fixed": "3.1.1"}, {"introduced": "3.1.1"}, {"fixed": "3.1.3"}]
    )
    assert match_entry("3.1.1", entry, "PyPI") is not None
    assert match_entry("3.1.3", entry, "PyPI") is None


def test_limit_bounds_the_range() -> None:
    events = events_of({"events": [{"introduced": "0"}, {"limit": "2.0"}]})
    cmp = range_comparator({"type": "SEMVER"}, "npm")
    assert cmp is not None
    assert in_events("1.9.0", events, cmp)
    assert not in_events("2.0.0", events, cmp)


def test_semver_ranges_use_semver_whatever_the_ecosystem() -> None:
    entry = _entry([{"introduced": "0"}, {"fixed": "1.10.0"}], kind="SEMVER")
    assert match_entry("1.9.0", entry, "Go") is not None
    assert match_entry("1.10.0", entry, "Go") is None


def test_git_ranges_match_only_through_versions() -> None:
    entry = _entry([{"introduced": "abc"}, {"fixed": "def"}], kind="GIT", versions=["1.2"])
    assert match_entry("1.2", entry, "PyPI") is not None
    assert match_entry("1.3", entry, "PyPI") is None


def test_union_of_range_and_versions_list() -> None:
    entry = _entry([{"introduced": "2.0"}, {"fixed": "2.1"}], versions=["1.0"])
    by_list = match_entry("1.0", entry, "PyPI")
    by_range = match_entry("2.0.5", entry, "PyPI")
    assert by_list is not None and by_list.by_list and not by_list.by_range
    assert by_range is not None and by_range.by_range and by_range.fixed == ("2.1",)


def test_distribution_orderings() -> None:
    deb = _entry([{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}])
    assert match_entry("3.0.11-1~deb12u1", deb, "Debian:12") is not None
    assert match_entry("3.0.11-1~deb12u2", deb, "Debian:12") is None
    alma = _entry([{"introduced": "0"}, {"fixed": "1:3.0.7-25.el9_3"}])
    assert match_entry("1:3.0.7-24.el9", alma, "AlmaLinux:9") is not None
    assert match_entry("1:3.0.7-27.el9", alma, "AlmaLinux:9") is None


# Upstream records whose `versions` lists and ranges genuinely disagree, kept visible here.
# (record id -> (versions the ranges do not include, why))
KNOWN_DISAGREEMENTS = {
    "PYSEC-2023-61": (
        {"3.2a1", "3.2b1", "3.2rc1", "4.2a1", "4.2b1", "4.2rc1"},
        "django: the list includes pre-releases of 3.2/4.2, the ranges start at 3.2 and 4.2 "
        "(PEP 440 orders 3.2a1 < 3.2)",
    ),
}
# Listed versions that are not PEP 440 (buildbot-style 0.7.4.svn.r2010, 0.1-bulbasaur …):
# no PEP 440 range can order them; the explicit list still matches them.
EXPECTED_NOT_PEP440 = 40


def test_every_listed_pypi_version_is_in_its_ranges() -> None:
    root = require_shared("osv/pypi")
    records = versions = 0
    not_pep440: list[tuple[str, str]] = []
    disagreements: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.json")):
        record = json.loads(path.read_text())
        records += 1
        for entry in record.get("affected", []):
            eco = entry["package"]["ecosystem"]
            ranges = [r for r in entry.get("ranges", []) if r["type"] != "GIT"]
            for version in entry.get("versions", []):
                versions += 1
                # The entry matches by list by definition; check the ranges alone.
                assert match_entry(version, entry, eco) is not None
                inside, invalid = False, False
                for rng in ranges:
                    cmp = range_comparator(rng, eco)
                    assert cmp is not None
                    try:
                        inside = inside or in_events(version, events_of(rng), cmp)
                    except InvalidVersionError:
                        invalid = True
                if inside:
                    continue
                if invalid:
                    not_pep440.append((record["id"], version))
                else:
                    disagreements.setdefault(record["id"], set()).add(version)
    assert records == 819 and versions == 61228
    assert len(not_pep440) == EXPECTED_NOT_PEP440
    assert disagreements == {k: v[0] for k, v in KNOWN_DISAGREEMENTS.items()}
