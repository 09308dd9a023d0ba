"""Sigma correlation rules → one SQL query over `aws_cloudtrail_events`, timespans honoured.

Windows are **sliding, anchored on each matching event**: for every event `e` of a group, the
window is `[e.time, e.time + timespan)`. Any window of that length holding enough events can be
slid to start at its first event, so for `gt`/`gte` the anchored windows find every burst; fixed
buckets (`time_bucket`, as the public pySigma DuckDB backend does, or no window at all) miss a
burst straddling a bucket boundary. The other operators (`lt`, `lte`, `eq`, `neq`) are tested
on the same anchored windows.

- `event_count`: events matching any referenced rule (an event counts once) per window;
- `value_count`: distinct non-null values of `condition.field` per window;
- `temporal`: distinct referenced rules matched per window (default: all of them);
- `temporal_ordered`: every referenced rule matched in the listed order, each strictly after
  the previous one, the last one inside the window (the earliest chain is taken).

Group-by fields missing from an event group as the empty value. Aliases give a group-by field
a different field name per referenced rule. The SQL is DuckDB's dialect; the lake transpiles it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sigma.correlations import (
    SigmaCorrelationCondition,
    SigmaCorrelationConditionOperator,
    SigmaCorrelationRule,
    SigmaCorrelationType,
)
from sigma.rule import SigmaRule

from opencwpp.detect.ingest.table import EVENTS
from opencwpp.detect.sigma.convert import UnsupportedRule
from opencwpp.detect.sigma.fields import FieldError, sigma_field_sql

MAX_EVIDENCE_EVENTS = 20
ACCOUNT_SQL = "COALESCE(user_identity_account_id, recipient_account_id, '')"
_OPS = {
    SigmaCorrelationConditionOperator.GT: ">",
    SigmaCorrelationConditionOperator.GTE: ">=",
    SigmaCorrelationConditionOperator.LT: "<",
    SigmaCorrelationConditionOperator.LTE: "<=",
    SigmaCorrelationConditionOperator.EQ: "=",
    SigmaCorrelationConditionOperator.NEQ: "<>",
}
_TYPES = {
    SigmaCorrelationType.EVENT_COUNT: "event_count",
    SigmaCorrelationType.VALUE_COUNT: "value_count",
    SigmaCorrelationType.TEMPORAL: "temporal",
    SigmaCorrelationType.TEMPORAL_ORDERED: "temporal_ordered",
}


@dataclass(frozen=True, slots=True)
class Member:
    """One referenced base rule: its predicate, group-key SQL and (value_count) value SQL."""

    reference: str
    where: str
    keys: tuple[str, ...]
    value: str | None = None


@dataclass(frozen=True, slots=True)
class CorrelationSpec:
    """What a correlation rule needs to run, already in SQL pieces."""

    type: str
    members: tuple[Member, ...]
    group_by: tuple[str, ...]
    seconds: int
    timespan: str
    op: str
    count: float
    value_field: str | None = None
    generate: bool = False


def _field(name: str, member: SigmaRule, reference: str, rule: SigmaCorrelationRule) -> str:
    """SQL for a group-by/value field in one member, through the rule's aliases."""
    alias = rule.aliases.aliases.get(name)
    if alias is not None:
        names = {reference, str(member.id) if member.id else "", member.name or ""} - {""}
        mapped = [f for ref, f in alias.mapping.items() if ref.reference in names]
        if not mapped:
            raise UnsupportedRule(f"alias {name!r} has no field for rule {reference!r}")
        name = mapped[0]
    try:
        return sigma_field_sql(name)
    except FieldError as err:
        raise UnsupportedRule(str(err)) from err


def compile_correlation(
    rule: SigmaCorrelationRule, members: list[tuple[str, SigmaRule, str]]
) -> CorrelationSpec:
    """A resolved correlation rule and its members (reference, rule, predicate) → a spec."""
    kind = _TYPES.get(rule.type)
    if kind is None:
        raise UnsupportedRule(f"correlation type {rule.type.name.lower()} is not supported")
    condition = rule.condition
    if not isinstance(condition, SigmaCorrelationCondition):
        raise UnsupportedRule("extended (boolean) correlation conditions are not supported")
    if not members:
        raise UnsupportedRule("correlation rule references no rules")
    value_field: str | None = None
    if kind == "value_count":
        fieldref = condition.fieldref
        value_field = fieldref[0] if isinstance(fieldref, list) and len(fieldref) == 1 else None
        value_field = fieldref if isinstance(fieldref, str) else value_field
        if value_field is None:
            raise UnsupportedRule("value_count needs exactly one condition field")
    if kind == "temporal_ordered" and (
        condition.op is not SigmaCorrelationConditionOperator.GTE or condition.count != len(members)
    ):
        raise UnsupportedRule("temporal_ordered supports only the default condition (all rules)")
    group_by = tuple(rule.group_by or ())
    compiled = tuple(
        Member(
            reference=ref,
            where=where,
            keys=tuple(_field(g, base, ref, rule) for g in group_by),
            value=_field(value_field, base, ref, rule) if value_field else None,
        )
        for ref, base, where in members
    )
    return CorrelationSpec(
        type=kind,
        members=compiled,
        group_by=group_by,
        seconds=rule.timespan.seconds,
        timespan=rule.timespan.spec,
        op=_OPS[condition.op],
        count=condition.count,
        value_field=value_field,
        generate=rule.generate,
    )


def _keys(spec: CorrelationSpec) -> list[str]:
    return [f"k{i}" for i in range(max(1, len(spec.group_by)))]


def _matched(spec: CorrelationSpec, since: str | None) -> str:
    branches = []
    for index, member in enumerate(spec.members):
        keys = member.keys or ("''",)
        cols = ", ".join(f"COALESCE(CAST({k} AS VARCHAR), '') AS k{i}" for i, k in enumerate(keys))
        value = f"CAST({member.value} AS VARCHAR)" if member.value else "CAST(NULL AS VARCHAR)"
        where = member.where if since is None else f"({member.where}) AND event_time >= {since}"
        branches.append(
            f"SELECT {index} AS member, event_id, event_time, {cols}, {value} AS v, "
            f"{ACCOUNT_SQL} AS account_id FROM {EVENTS.name} WHERE {where}"
        )
    union = " UNION ALL ".join(branches)
    if spec.type in ("temporal", "temporal_ordered"):
        return union
    # An event matching several referenced rules is one event.
    return (
        "SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY member) "
        f"AS dup FROM ({union}) AS u) AS d WHERE dup = 1"
    )


def _same_group(spec: CorrelationSpec, a: str, b: str) -> str:
    return " AND ".join(f"{a}.{k} = {b}.{k}" for k in _keys(spec))


def _windows(spec: CorrelationSpec) -> str:
    keys = ", ".join(f"a.{k}" for k in _keys(spec))
    end = f"a.event_time + INTERVAL '{spec.seconds}' SECOND"
    if spec.type == "temporal_ordered":
        return _ordered_windows(spec)
    measure = {
        "event_count": "count(*)",
        "value_count": "count(DISTINCT b.v)",
        "temporal": "count(DISTINCT b.member)",
    }[spec.type]
    return (
        f"SELECT a.event_id AS anchor, {keys}, a.event_time AS win_start, "
        f"max(b.event_time) AS win_last, {measure} AS n FROM ev AS a JOIN ev AS b "
        f"ON {_same_group(spec, 'a', 'b')} AND b.event_time >= a.event_time "
        f"AND b.event_time < {end} GROUP BY a.event_id, {keys}, a.event_time "
        f"HAVING {measure} {spec.op} {spec.count!r}"
    )


def _ordered_windows(spec: CorrelationSpec) -> str:
    """Earliest chain member 0 → 1 → … per anchor, as nested CTE-free subqueries."""
    keys = _keys(spec)
    cols = ", ".join(keys)
    step = (
        f"SELECT event_id AS anchor, {cols}, event_time AS win_start, event_time AS t "
        "FROM ev WHERE member = 0"
    )
    for index in range(1, len(spec.members)):
        pcols = ", ".join(f"p.{k}" for k in keys)
        step = (
            f"SELECT p.anchor, {pcols}, p.win_start, min(e.event_time) AS t FROM ({step}) AS p "
            f"JOIN ev AS e ON {_same_group(spec, 'p', 'e')} AND e.member = {index} "
            f"AND e.event_time > p.t "
            f"AND e.event_time < p.win_start + INTERVAL '{spec.seconds}' SECOND "
            f"GROUP BY p.anchor, {pcols}, p.win_start"
        )
    n = len(spec.members)
    return f"SELECT anchor, {cols}, win_start, t AS win_last, {n} AS n FROM ({step}) AS s"


def correlation_sql(spec: CorrelationSpec, since: str | None = None) -> str:
    """Per group: the first firing window, how many fired, and its first events (bounded).

    `since` is a SQL timestamp expression bounding the events considered.
    """
    keys = _keys(spec)
    cols = ", ".join(keys)
    fcols = ", ".join(f"f.{k}" for k in keys)
    return (
        f"WITH ev AS ({_matched(spec, since)}), win AS ({_windows(spec)}), "
        f"firing AS (SELECT *, count(*) OVER (PARTITION BY {cols}) AS firing_windows, "
        f"row_number() OVER (PARTITION BY {cols} ORDER BY win_start, anchor) AS wn FROM win) "
        f"SELECT * FROM (SELECT {fcols}, f.win_start, f.win_last, f.n, f.firing_windows, "
        "e.event_id, e.event_time, e.account_id, "
        f"count(*) OVER (PARTITION BY {fcols}) AS in_window, "
        f"row_number() OVER (PARTITION BY {fcols} ORDER BY e.event_time, e.event_id) AS rn "
        f"FROM firing AS f JOIN (SELECT DISTINCT event_id, event_time, account_id, {cols} "
        f"FROM ev) AS e ON {_same_group(spec, 'f', 'e')} "
        "AND e.event_time >= f.win_start AND e.event_time <= f.win_last WHERE f.wn = 1) AS x "
        f"WHERE rn <= {MAX_EVIDENCE_EVENTS} ORDER BY {cols}, rn"
    )
