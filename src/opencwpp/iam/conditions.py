"""Condition operators, one small function per family, and the set / IfExists / Null semantics.

Every operator compares one policy value with one request value in its positive form; negated
operators (`StringNotEquals`, `NotIpAddress`, `ArnNotLike` …) are the complement. Over a request
key with several values, a plain operator is true when any value matches (negated: when none
does); `ForAnyValue:` needs one value to satisfy the operator, `ForAllValues:` every value. An
absent key makes `ForAllValues:`, `…IfExists` and negated operators true, everything else false.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import operator
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple

from opencwpp.iam.matching import arn_matches, glob_regex
from opencwpp.iam.variables import Lookup, Tokens, literal_text, resolve, tokenize

Matcher = Callable[[Tokens, str], bool]


def _string_equals(pv: Tokens, cv: str) -> bool:
    return literal_text(pv) == cv


def _string_equals_ignore_case(pv: Tokens, cv: str) -> bool:
    return literal_text(pv).casefold() == cv.casefold()


def _string_like(pv: Tokens, cv: str) -> bool:
    return glob_regex(pv).fullmatch(cv) is not None


def _arn_like(pv: Tokens, cv: str) -> bool:
    return cv.count(":") >= 5 and arn_matches(pv, cv)


def _numeric(compare: Callable[[float, float], bool]) -> Matcher:
    def match(pv: Tokens, cv: str) -> bool:
        try:
            return compare(float(cv), float(literal_text(pv)))
        except ValueError:
            return False

    return match


_EPOCH = re.compile(r"^-?\d+(\.\d+)?$")


@lru_cache(maxsize=4096)
def _parse_date(text: str) -> datetime | None:
    text = text.strip()
    try:
        if _EPOCH.match(text):
            return datetime.fromtimestamp(float(text), UTC)
        parsed = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _date(compare: Callable[[datetime, datetime], bool]) -> Matcher:
    def match(pv: Tokens, cv: str) -> bool:
        left, right = _parse_date(cv), _parse_date(literal_text(pv))
        return left is not None and right is not None and compare(left, right)

    return match


def _bool(pv: Tokens, cv: str) -> bool:
    return literal_text(pv).lower() == cv.lower()


def _bytes(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return text.encode()


def _binary_equals(pv: Tokens, cv: str) -> bool:
    return _bytes(literal_text(pv)) == _bytes(cv)


@lru_cache(maxsize=4096)
def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def _ip_address(pv: Tokens, cv: str) -> bool:
    network = _network(literal_text(pv))
    try:
        address = ipaddress.ip_address(cv.strip())
    except ValueError:
        return False
    return network is not None and address.version == network.version and address in network


# positive operator → (matcher, variables allowed, wildcards in the policy value)
_FAMILIES: dict[str, tuple[Matcher, bool, bool]] = {
    "stringequals": (_string_equals, True, False),
    "stringequalsignorecase": (_string_equals_ignore_case, True, False),
    "stringlike": (_string_like, True, True),
    "numericequals": (_numeric(operator.eq), False, False),
    "numericlessthan": (_numeric(operator.lt), False, False),
    "numericlessthanequals": (_numeric(operator.le), False, False),
    "numericgreaterthan": (_numeric(operator.gt), False, False),
    "numericgreaterthanequals": (_numeric(operator.ge), False, False),
    "dateequals": (_date(operator.eq), False, False),
    "datelessthan": (_date(operator.lt), False, False),
    "datelessthanequals": (_date(operator.le), False, False),
    "dategreaterthan": (_date(operator.gt), False, False),
    "dategreaterthanequals": (_date(operator.ge), False, False),
    "bool": (_bool, False, False),
    "binaryequals": (_binary_equals, False, False),
    "ipaddress": (_ip_address, False, False),
    "arnequals": (_arn_like, True, True),
    "arnlike": (_arn_like, True, True),
}
_NEGATED = {
    "stringnotequals": "stringequals",
    "stringnotequalsignorecase": "stringequalsignorecase",
    "stringnotlike": "stringlike",
    "numericnotequals": "numericequals",
    "datenotequals": "dateequals",
    "notipaddress": "ipaddress",
    "arnnotequals": "arnequals",
    "arnnotlike": "arnlike",
}


class Condition(NamedTuple):
    """One operator / key / values triple of a Condition block, normalised."""

    operator: str
    qualifier: str | None  # "forallvalues" | "foranyvalue"
    positive: str  # the positive family name, or "null"
    negated: bool
    if_exists: bool
    key: str  # lower-cased: condition key names are case-insensitive
    values: tuple[Tokens, ...]


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise ValueError(f"condition value {value!r} is not a string, number or boolean")


def parse_condition_block(block: Any, variables: bool) -> tuple[Condition, ...]:
    """Normalises a Condition element; ValueError names the first thing AWS would reject."""
    if not isinstance(block, dict):
        raise ValueError("Condition must be an object")
    out: list[Condition] = []
    for op_name, entries in block.items():
        name = str(op_name).lower()
        qualifier = None
        if ":" in name:
            qualifier, name = name.split(":", 1)
            if qualifier not in ("forallvalues", "foranyvalue"):
                raise ValueError(f"unknown condition set operator {op_name!r}")
        if_exists = name.endswith("ifexists") and name != "null"
        base = name[: -len("ifexists")] if if_exists else name
        negated = base in _NEGATED
        positive = _NEGATED.get(base, base)
        if positive not in _FAMILIES and positive != "null":
            raise ValueError(f"unknown condition operator {op_name!r}")
        if not isinstance(entries, dict):
            raise ValueError(f"condition operator {op_name!r} must map keys to values")
        allow_vars, wildcards = _FAMILIES.get(positive, (_bool, False, False))[1:]
        for key, raw in entries.items():
            raw_list = raw if isinstance(raw, list) else [raw]
            values = tuple(
                tokenize(_scalar(v), variables=variables and allow_vars, wildcards=wildcards)
                for v in raw_list
            )
            cond = Condition(
                str(op_name), qualifier, positive, negated, if_exists, key.lower(), values
            )
            out.append(cond)
    return tuple(out)


def condition_holds(
    cond: Condition, context: Mapping[str, tuple[str, ...]], lookup: Lookup
) -> bool:
    """Whether one condition is satisfied by the request context."""
    present = context.get(cond.key)
    if cond.positive == "null":
        wants_absent = any(literal_text(v).lower() == "true" for v in cond.values)
        return (not present) if wants_absent else bool(present)
    if not present:
        if cond.qualifier == "forallvalues":
            return True
        if cond.qualifier == "foranyvalue":
            return False
        return cond.if_exists or cond.negated
    matcher = _FAMILIES[cond.positive][0]
    resolved = [r for r in (resolve(v, lookup) for v in cond.values) if r is not None]

    def satisfied(value: str) -> bool:
        hit = any(matcher(pv, value) for pv in resolved)
        return hit != cond.negated

    if cond.qualifier == "forallvalues":
        return all(satisfied(v) for v in present)
    if cond.qualifier == "foranyvalue" or not cond.negated:
        return any(satisfied(v) for v in present)
    return all(satisfied(v) for v in present)
