"""The snapshot parsers are an optional extra (AGPL-3.0): without them, one clear line."""

from __future__ import annotations

import sys

import pytest

from opencwpp.core.errors import UsageError
from opencwpp.vuln.targets.optional import disk_parser


def test_missing_parsers_name_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dissect.extfs", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "opencwpp.vuln.targets.disk", raising=False)
    with pytest.raises(UsageError, match=r"pip install 'opencwpp\[snapshots\]'"):
        disk_parser()
