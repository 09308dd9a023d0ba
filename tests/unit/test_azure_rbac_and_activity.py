"""Pure parts of the Azure access and Activity Log code: patterns, scopes, records, redaction."""

from __future__ import annotations

import json

import pytest

from opencwpp.detect.azure.records import REDACTED, RecordError, parse_time, redact, to_row
from opencwpp.iam.azure_rbac import Assignment, Permission, action_matches, guid_of, scope_covers

SUB = "00000000-0000-0000-0000-000000000000"
ACCOUNT = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st"
READ = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"


def _assignment(scope: str, subscription: str = SUB) -> Assignment:
    return Assignment("a", subscription, "p", "User", "r", scope)


@pytest.mark.parametrize(
    ("pattern", "matches"),
    [
        ("*", True),
        ("microsoft.storage/*", True),
        ("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*", True),
        ("*/read", True),
        ("Microsoft.Storage/storageAccounts/blobServices/containers/blobs", False),
        ("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/rea.", False),
        ("Microsoft.Compute/*", False),
    ],
)
def test_action_patterns(pattern: str, matches: bool) -> None:
    assert action_matches(pattern, READ) is matches


def test_not_data_actions_subtract_within_the_block() -> None:
    block = Permission(data_actions=("Microsoft.Storage/*",), not_data_actions=(READ.upper(),))
    assert not block.grants(READ, True)
    assert block.grants(READ.replace("/read", "/write"), True)
    assert not block.grants(READ, False)  # a data action is not granted by `actions`


def test_scopes() -> None:
    assert scope_covers(_assignment(f"/subscriptions/{SUB.upper()}"), ACCOUNT, SUB)
    assert scope_covers(_assignment(f"/subscriptions/{SUB}/resourceGroups/RG"), ACCOUNT, SUB)
    assert not scope_covers(_assignment(f"/subscriptions/{SUB}/resourceGroups/r"), ACCOUNT, SUB)
    assert not scope_covers(_assignment(ACCOUNT + "2"), ACCOUNT, SUB)
    assert scope_covers(_assignment(ACCOUNT + "/"), ACCOUNT, SUB)
    mg = "/providers/Microsoft.Management/managementGroups/root"
    assert scope_covers(_assignment(mg), ACCOUNT, SUB)
    assert not scope_covers(_assignment(mg, "11111111-1111-1111-1111-111111111111"), ACCOUNT, SUB)
    assert scope_covers(_assignment("/"), ACCOUNT, SUB)
    assert guid_of("/providers/Microsoft.Authorization/roleDefinitions/ABC/") == "abc"


def test_times() -> None:
    assert parse_time("2024-05-01T10:11:12.1234567Z").isoformat() == "2024-05-01T10:11:12.123456"
    assert parse_time("2024-05-01T12:00:00+02:00").isoformat() == "2024-05-01T10:00:00"
    with pytest.raises(RecordError):
        parse_time("yesterday")


def test_record_ids_tell_start_from_success_and_repeat_for_the_same_record() -> None:
    base = {"time": "2024-05-01T10:00:00Z", "operationName": "X/WRITE", "correlationId": "c"}
    start = to_row({**base, "resultType": "Start"}, "f")
    success = to_row({**base, "resultType": "Success"}, "f")
    assert start["record_id"] != success["record_id"]
    assert to_row({**base, "resultType": "Start"}, "other file")["record_id"] == start["record_id"]
    with pytest.raises(RecordError):
        to_row({"operationName": "x"}, "f")


def test_redaction_of_bodies_and_secret_names() -> None:
    body = json.dumps({"properties": {"value": "s3cr3t", "contentType": "text/plain"}})
    out = redact({"properties": {"requestbody": body, "responseBody": "not json, password=1"}})
    assert json.loads(out["properties"]["requestbody"])["properties"] == {
        "value": REDACTED,
        "contentType": "text/plain",
    }
    assert out["properties"]["responseBody"] == REDACTED
    # Outside bodies, `value` is a localizable name and stays; secret-looking names go.
    kept = redact({"status": {"value": "Succeeded"}, "clientSecret": "x", "tokenLifetime": 5})
    assert kept == {
        "status": {"value": "Succeeded"},
        "clientSecret": REDACTED,
        "tokenLifetime": REDACTED,
    }


def test_caller_comes_from_claims_of_either_shape() -> None:
    activity = {"identity": {"claims": {"name": "a@example.com"}}}
    keyvault = {"identity": {"claim": {"upn": "b@example.com"}}}
    for record, who in ((activity, "a@example.com"), (keyvault, "b@example.com")):
        row = to_row({"time": "2024-05-01T10:00:00Z", "operationName": "x", **record}, "f")
        assert row["caller"] == who
