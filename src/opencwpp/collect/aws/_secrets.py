"""Secret detection and redaction: no secret value ever reaches the lake.

Values that may hold secrets (Lambda environment variables, EC2 user data) are replaced by a
fingerprint, `redacted:sha256:<first 12 hex>`. Where a value looks like a secret (by pattern,
or by a secret-sounding name and a high-entropy value), a row in `cwpp_aws_secret_exposures`
says where it lives and what kind it is, with the fingerprint only.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import io
import math
import re
import zlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from opencwpp.collect.base import Row
from opencwpp.lake.schema import table

EXPOSURES = table(
    "cwpp_aws_secret_exposures",
    ["account_id", "region", "source_table", "resource_arn", "location", "kind", "fingerprint"],
    cq_id_from=["source_table", "resource_arn", "location", "fingerprint"],
    partition_by="source_table",
    description="Where a secret-looking value lives (its fingerprint only, never the value).",
)

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("aws_access_key_id", re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")),
    ("private_key", re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    ("github_token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})")),
    ("slack_token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
)
_AWS_SECRET = re.compile(r"^[A-Za-z0-9/+]{40}$")
_SECRET_NAME = re.compile(
    r"pass(?:wd|word)?|pwd|secret|token|api[_-]?key|apikey|private[_-]?key|credential|auth",
    re.IGNORECASE,
)
_ASSIGNMENT = re.compile(
    r"""(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)\s*[=:]\s*["']?(?P<value>[^\s"';]+)"""
)
# Values that point at a secret rather than hold one.
_REFERENCE = re.compile(r"^(?:arn:|\$\{|\{\{resolve:|/aws/reference/|ssm:|secretsmanager:)")
MIN_LENGTH = 8
MIN_ENTROPY = 3.0
MAX_USER_DATA = 1 << 20


@dataclass(frozen=True, slots=True)
class Exposure:
    """A secret-looking value found at `location` (relative to the scanned value)."""

    location: str
    kind: str
    fingerprint: str


def fingerprint(value: str) -> str:
    """`redacted:sha256:<first 12 hex>`: tells equal values apart, never reveals them."""
    return "redacted:sha256:" + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:12]


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    if not value:
        return 0.0
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def classify(value: str, name: str = "") -> str | None:
    """The kind of secret `value` is (its variable `name` gives context), or None."""
    for kind, pattern in _PATTERNS:
        if pattern.search(value):
            return kind
    if not name or not _SECRET_NAME.search(name) or _REFERENCE.match(value):
        return None
    if "secret" in name.lower() and _AWS_SECRET.match(value):
        return "aws_secret_access_key"
    if len(value) >= MIN_LENGTH and entropy(value) >= MIN_ENTROPY:
        return "password" if re.search("pass|pwd", name, re.IGNORECASE) else "generic_secret"
    return None


def redact_environment(
    variables: Mapping[str, Any] | None, location: str
) -> tuple[dict[str, str], list[Exposure]]:
    """Each value replaced by its fingerprint (keys kept); the secret-looking ones reported."""
    redacted: dict[str, str] = {}
    found: list[Exposure] = []
    for key, value in (variables or {}).items():
        text = "" if value is None else str(value)
        redacted[str(key)] = fingerprint(text)
        kind = classify(text, str(key))
        if kind is not None:
            found.append(Exposure(f"{location}.{key}", kind, fingerprint(text)))
    return redacted, found


def scan_text(text: str, location: str) -> list[Exposure]:
    """Secret-looking values in free text (a script): patterns, then `name=value` pairs."""
    found: dict[tuple[str, str], Exposure] = {}
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            exposure = Exposure(f"{location}:line {line}", kind, fingerprint(match.group(0)))
            found.setdefault((exposure.location, exposure.fingerprint), exposure)
    for match in _ASSIGNMENT.finditer(text):
        named_kind = classify(match.group("value"), match.group("name"))
        if named_kind is None:
            continue
        line = text.count("\n", 0, match.start()) + 1
        exposure = Exposure(
            f"{location}:line {line}:{match.group('name')}",
            named_kind,
            fingerprint(match.group("value")),
        )
        found.setdefault((f"{location}:line {line}", exposure.fingerprint), exposure)
    return list(found.values())


def decode_user_data(encoded: str | None) -> str:
    """EC2 user data (base64, maybe gzip-compressed) as text; '' when absent or undecodable."""
    if not encoded:
        return ""
    try:
        raw = base64.b64decode(encoded, validate=False)
    except (binascii.Error, ValueError):
        return ""
    if raw[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as gz:
                raw = gz.read(MAX_USER_DATA)
        except (OSError, EOFError, zlib.error):
            return ""
    return raw[:MAX_USER_DATA].decode("utf-8", "replace")


def exposure_rows(
    exposures: list[Exposure],
    *,
    account_id: str,
    region: str,
    source_table: str,
    resource_arn: str,
) -> list[Row]:
    """Rows of `cwpp_aws_secret_exposures` (the `_cq_id` is set by the lake)."""
    return [
        {
            "account_id": account_id,
            "region": region,
            "source_table": source_table,
            "resource_arn": resource_arn,
            "location": e.location,
            "kind": e.kind,
            "fingerprint": e.fingerprint,
        }
        for e in exposures
    ]
