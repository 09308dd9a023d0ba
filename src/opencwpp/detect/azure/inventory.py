"""The Azure inventory the Activity Log detections join with, whether or not it was collected.

Like `opencwpp.detect.inventory` for AWS: a temporary view with a fixed shape, present while the
detections run, over `azure_authorization_role_assignments` when the lake holds it and empty
otherwise, so the same detection SQL runs either way (and nothing stops anyone dropping the
inventory table afterwards).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opencwpp.detect.inventory import temporary_view
from opencwpp.lake.dialect import transpile
from opencwpp.lake.lake import Lake

# (principal_id, assignment_name, created_on): every synced role assignment, ids lower-case,
# created_on as 'YYYY-MM-DD HH:MM:SS' text (compared as text: a malformed value cannot fail
# the run).
KNOWN_ROLE_ASSIGNMENTS = "cwpp_azure_known_role_assignments"
_INVENTORY = "azure_authorization_role_assignments"
_FROM_INVENTORY = (
    "SELECT lower(properties->>'$.principalId') AS principal_id, "
    "lower(CAST(name AS VARCHAR)) AS assignment_name, "
    "replace(substr(properties->>'$.createdOn', 1, 19), 'T', ' ') AS created_on "
    f"FROM {_INVENTORY}"
)
_EMPTY = (
    "SELECT CAST(NULL AS VARCHAR) AS principal_id, CAST(NULL AS VARCHAR) AS assignment_name, "
    "CAST(NULL AS VARCHAR) AS created_on WHERE 1 = 0"
)


@contextmanager
def known_role_assignments(lake: Lake) -> Iterator[None]:
    """`cwpp_azure_known_role_assignments` over the synced role assignments, for this connection."""
    body = _FROM_INVENTORY if _INVENTORY in lake.table_names() else _EMPTY
    with temporary_view(lake, KNOWN_ROLE_ASSIGNMENTS, transpile(body, lake.dialect)):
        yield
