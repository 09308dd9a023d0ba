"""The disk parsers, an optional extra: the `dissect` libraries they use are AGPL-3.0."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from opencwpp.core.errors import UsageError
from opencwpp.vuln.extract.walk import Inventory

PARSERS = ("dissect.extfs", "dissect.xfs", "dissect.volume")
EXTRA = "pip install 'opencwpp[snapshots]'"


def _disk_module() -> ModuleType:
    """`targets.disk`; a one-line error naming the extra when a parser is missing."""
    try:
        for parser in PARSERS:  # each one is needed, not just the first the module imports
            importlib.import_module(parser)
        return importlib.import_module("opencwpp.vuln.targets.disk")
    except ImportError as err:
        raise UsageError(
            f"reading disk images and EBS snapshots needs the optional parsers (dissect, "
            f"AGPL-3.0): {EXTRA}"
        ) from err


def disk_parser() -> Callable[[Any, Inventory, str], Inventory]:
    """`targets.disk.disk_inventory` (one disk)."""
    parse: Callable[[Any, Inventory, str], Inventory] = _disk_module().disk_inventory
    return parse


def disks_parser() -> Callable[[Sequence[tuple[Any, str]], Inventory], Any]:
    """`targets.disk.disks_inventory` (the disks of one machine, returns `DisksRead`)."""
    parse: Callable[[Sequence[tuple[Any, str]], Inventory], Any] = _disk_module().disks_inventory
    return parse
