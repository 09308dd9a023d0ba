r"""Our own Sigma → SQL converter over pySigma's parsed condition tree.

Semantics, as Sigma defines them (and where the public DuckDB backend differs):
- plain values match case-insensitively (`lower()` on both sides); `|cased` keeps case;
- `*` and `?` are wildcards, escaped ones are literal: LIKE with ESCAPE '\\';
- every leaf is `COALESCE(…, FALSE)`, so an absent field is simply "does not match" and
  `not filter` keeps an event that lacks the filter's field (SQL's NULL would drop it);
- `null` is "absent or null", `|exists` tests presence, `|re` is case-sensitive unless `|i`,
  `|cidr` expands to address prefixes, `|fieldref` compares two fields, keywords search the
  whole record as text (`RECORD_TEXT`). Values are SQL string literals with quotes doubled
  (rules are data).
The SQL is DuckDB's dialect; `Lake.query` transpiles it for PostgreSQL.
"""

from __future__ import annotations

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.exceptions import SigmaError
from sigma.types import (
    CompareOperators,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaType,
    SpecialChars,
)

from opencwpp.detect.ingest.table import RECORD_TEXT
from opencwpp.detect.sigma.fields import FieldError, field_sql

_FLAGS = {
    SigmaRegularExpressionFlag.IGNORECASE: "i",
    SigmaRegularExpressionFlag.MULTILINE: "m",
    SigmaRegularExpressionFlag.DOTALL: "s",
}
_OPS = {
    CompareOperators.LT: "<",
    CompareOperators.LTE: "<=",
    CompareOperators.GT: ">",
    CompareOperators.GTE: ">=",
    CompareOperators.NEQ: "<>",
}
_NUMBER = r"^\s*-?[0-9]+(\.[0-9]+)?\s*$"


class UnsupportedRule(ValueError):
    """A rule that uses something the converter cannot express (placeholders, …)."""


def literal(text: str) -> str:
    """A SQL string literal: quotes doubled, NUL refused."""
    if "\x00" in text:
        raise UnsupportedRule("NUL character in a value")
    return "'" + text.replace("'", "''") + "'"


def _never_null(sql: str) -> str:
    return f"COALESCE({sql}, FALSE)"


def _has_wildcards(value: SigmaString) -> bool:
    return any(isinstance(part, SpecialChars) for part in value.s)


def _string(field: str, value: SigmaString, *, cased: bool) -> str:
    target = field if cased else f"lower({field})"
    if not _has_wildcards(value):
        text = value.convert(escape_char=None, wildcard_multi=None, wildcard_single=None)
        return _never_null(f"{target} = {literal(text if cased else text.lower())}")
    pattern = value.convert(
        escape_char="\\", wildcard_multi="%", wildcard_single="_", add_escaped="%_\\"
    )
    pattern = pattern if cased else pattern.lower()
    return _never_null(f"{target} LIKE {literal(pattern)} ESCAPE '\\'")


def _regex(field: str, value: SigmaRegularExpression) -> str:
    flags = "".join(sorted(_FLAGS[f] for f in value.flags))
    pattern = (f"(?{flags})" if flags else "") + value.regexp.original
    return _never_null(f"regexp_matches({field}, {literal(pattern)})")


def _cidr(field: str, value: SigmaCIDRExpression) -> str:
    parts = [_string(field, SigmaString(p), cased=False) for p in value.expand("*")]
    return "(" + " OR ".join(parts) + ")"


def _fieldref(field: str, value: SigmaFieldReference) -> str:
    other = f"lower({field_sql(value.field)})"
    mine = f"lower({field})"
    if value.starts_with:
        return _never_null(f"left({mine}, length({other})) = {other}")
    if value.ends_with:
        return _never_null(f"right({mine}, length({other})) = {other}")
    return _never_null(f"{mine} = {other}")


def _compare(field: str, value: SigmaCompareExpression) -> str:
    number = value.number.number
    guarded = (
        f"CASE WHEN regexp_matches({field}, {literal(_NUMBER)}) THEN CAST({field} AS DOUBLE) END"
    )
    return _never_null(f"{guarded} {_OPS[value.op]} {float(number)!r}")


def value_sql(field: str, value: SigmaType) -> str:
    """The predicate for one field and one (already modified) Sigma value; never NULL."""
    if isinstance(value, SigmaExpansion):
        return "(" + " OR ".join(value_sql(field, v) for v in value.values) + ")"
    if isinstance(value, SigmaNull):
        return f"({field} IS NULL)"
    if isinstance(value, SigmaExists):
        return f"({field} IS {'NOT ' if value.exists else ''}NULL)"
    if isinstance(value, SigmaCasedString):
        return _string(field, value, cased=True)
    if isinstance(value, SigmaString):
        return _string(field, value, cased=False)
    if isinstance(value, SigmaBool):
        return _never_null(f"lower({field}) = {literal('true' if value.boolean else 'false')}")
    if isinstance(value, SigmaNumber):
        return _never_null(f"{field} = {literal(str(value.number))}")
    if isinstance(value, SigmaRegularExpression):
        return _regex(field, value)
    if isinstance(value, SigmaCIDRExpression):
        return _cidr(field, value)
    if isinstance(value, SigmaFieldReference):
        return _fieldref(field, value)
    if isinstance(value, SigmaCompareExpression):
        return _compare(field, value)
    raise UnsupportedRule(f"value type {type(value).__name__} is not supported")


def _keyword(value: SigmaType) -> str:
    if isinstance(value, SigmaString):
        if not value.startswith(SpecialChars.WILDCARD_MULTI):
            value = SpecialChars.WILDCARD_MULTI + value
        if not value.endswith(SpecialChars.WILDCARD_MULTI):
            value = value + SpecialChars.WILDCARD_MULTI
        return value_sql(RECORD_TEXT, value)
    if isinstance(value, SigmaNumber):
        return _keyword(SigmaString(str(value.number)))
    if isinstance(value, SigmaExpansion):
        return "(" + " OR ".join(_keyword(v) for v in value.values) + ")"
    if isinstance(value, SigmaRegularExpression):
        return _regex(RECORD_TEXT, value)
    raise UnsupportedRule(f"keyword of type {type(value).__name__} is not supported")


def condition_sql(node: object) -> str:
    """SQL for a parsed Sigma condition tree (after the processing pipeline ran)."""
    try:
        if isinstance(node, ConditionAND):
            return "(" + " AND ".join(condition_sql(a) for a in node.args) + ")"
        if isinstance(node, ConditionOR):
            return "(" + " OR ".join(condition_sql(a) for a in node.args) + ")"
        if isinstance(node, ConditionNOT):
            return f"(NOT {condition_sql(node.args[0])})"
        if isinstance(node, ConditionFieldEqualsValueExpression):
            return value_sql(field_sql(node.field), node.value)
        if isinstance(node, ConditionValueExpression):
            return _keyword(node.value)
    except (FieldError, SigmaError) as err:
        raise UnsupportedRule(str(err)) from err
    raise UnsupportedRule(f"condition element {type(node).__name__} is not supported")
