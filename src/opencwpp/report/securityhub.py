"""`--send securityhub`: import findings into AWS Security Hub with BatchImportFindings.

The caller passes its AWS session context (anything with `account_id`, `default_region` and
`client(service, region)`), so this module never builds credentials itself. Findings go in
batches of 100, the API's limit; a finding Security Hub rejects is reported, never dropped
silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from opencwpp.core.errors import CwppError
from opencwpp.core.models import Finding
from opencwpp.report.formats.asff import asff_finding

BATCH_SIZE = 100


class SessionContext(Protocol):
    """What sending needs from an AWS session (opencwpp's `AwsContext` fits)."""

    @property
    def account_id(self) -> str:
        """The account whose Security Hub receives the findings."""
        ...

    @property
    def default_region(self) -> str:
        """The region of that Security Hub."""
        ...

    def client(self, service: str, region: str | None = None) -> Any:
        """A boto3 client."""
        ...


class SecurityHubError(CwppError):
    """Security Hub refused the request (not enabled, access denied, throttled …)."""


@dataclass(frozen=True, slots=True)
class SendResult:
    """How many findings Security Hub accepted, and why it rejected the others."""

    sent: int
    failed: int
    errors: list[str] = field(default_factory=list)


def send_to_securityhub(
    findings: Sequence[Finding],
    session_context: SessionContext,
    *,
    region: str | None = None,
    now: datetime | None = None,
) -> SendResult:
    """Imports `findings` into the session account's Security Hub in `region` (or its default)."""
    region = region or session_context.default_region
    account = session_context.account_id
    now = now or datetime.now(UTC)
    client = session_context.client("securityhub", region)
    items = [asff_finding(f, now, account_id=account, region=region) for f in findings]
    sent = failed = 0
    errors: list[str] = []
    for start in range(0, len(items), BATCH_SIZE):
        batch = items[start : start + BATCH_SIZE]
        try:
            answer = client.batch_import_findings(Findings=batch)
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "error")
            message = err.response.get("Error", {}).get("Message", "")
            raise SecurityHubError(f"Security Hub BatchImportFindings: {code}: {message}") from err
        except BotoCoreError as err:
            raise SecurityHubError(f"cannot reach Security Hub: {err}") from err
        sent += int(answer.get("SuccessCount", 0))
        failed += int(answer.get("FailedCount", 0))
        errors.extend(
            f"{item.get('Id', '?')}: {item.get('ErrorCode', '')} {item.get('ErrorMessage', '')}"
            for item in answer.get("FailedFindings", [])
        )
    return SendResult(sent=sent, failed=failed, errors=errors)
