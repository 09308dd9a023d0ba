"""The disk parsers, an optional extra: the `dissect` libraries they use are AGPL-3.0."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opencwpp.core.errors import UsageError
from opencwpp.vuln.extract.walk import Inventory

EXTRA = "pip install 'opencwpp[snapshots]'"


def disk_parser() -> Callable[[Any, Inventory, str], Inventory]:
    """`targets.disk.disk_inventory`; a one-line error naming the extra when it is missing."""
    try:
        from opencwpp.vuln.targets.disk import disk_inventory
    except ImportError as err:
        raise UsageError(
            f"reading disk images and EBS snapshots needs the optional parsers (dissect, "
            f"AGPL-3.0): {EXTRA}"
        ) from err
    return disk_inventory
