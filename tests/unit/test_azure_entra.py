"""Graph users as rows: the selected fields only, typed; duplicate pages collapse."""

from __future__ import annotations

from datetime import UTC, datetime

from opencwpp.collect.azure._graph import _same_origin
from opencwpp.collect.azure.entra import USERS_QUERY, transform_user

SUB = "00000000-0000-0000-0000-000000000000"


def test_transform_keeps_the_selected_fields_only() -> None:
    item = {
        "id": "u1",
        "userPrincipalName": "g_x.example#EXT#@t.onmicrosoft.com",
        "userType": "Guest",
        "accountEnabled": False,
        "createdDateTime": "2024-01-02T03:04:05Z",
        "externalUserStateChangeDateTime": "not a time",
        "passwordProfile": {"password": "hunter2"},
        "mail": "x@example.com",
    }
    row = transform_user(SUB, "t1", item)
    assert row["account_enabled"] is False and row["user_type"] == "Guest"
    assert row["created_date_time"] == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert row["external_user_state_change_date_time"] is None
    assert "hunter2" not in repr(row) and "x@example.com" not in repr(row)
    assert row["_cq_id"] == transform_user(SUB, "t1", {"id": "u1"})["_cq_id"]
    assert row["_cq_id"] != transform_user("other", "t1", {"id": "u1"})["_cq_id"]
    assert transform_user(SUB, "", {"id": "u2", "accountEnabled": "yes"})["account_enabled"] is None


def test_the_query_selects_no_credentials_and_links_stay_on_graph() -> None:
    selected = USERS_QUERY["$select"].split(",")
    assert "userType" in selected and not [f for f in selected if "password" in f.lower()]
    assert _same_origin("https://GRAPH.microsoft.com/v1.0/users?x", "https://graph.microsoft.com/")
    assert not _same_origin(
        "https://graph.microsoft.com.evil.example/v1.0", "https://graph.microsoft.com/"
    )
    assert not _same_origin("http://graph.microsoft.com/v1.0", "https://graph.microsoft.com/")
