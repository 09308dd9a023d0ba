"""A stateful detection: SQL over `aws_cloudtrail_events` that needs more than one event.

Each detection is a query in DuckDB's dialect returning the `event_id`s it flags (baselines,
windows, joins, sequences). The engine runs it like a Sigma rule whose predicate is
`event_id IN (that query)`, so alerts are grouped per identity, keep event ids as evidence and
go through the same findings history.
"""

from __future__ import annotations

from dataclasses import dataclass

from opencwpp.detect.sigma.rules import CompiledRule

EVENTS = "aws_cloudtrail_events"
# Epoch seconds of the event, and two 10-minute bucket numbers offset by 5 minutes: a burst
# that fits in 5 minutes always falls whole into one bucket of one of the two series.
WINDOW_SECONDS = 600
BUCKET_A = f"CAST(floor(epoch(event_time) / {WINDOW_SECONDS}) AS BIGINT)"
BUCKET_B = f"CAST(floor((epoch(event_time) + {WINDOW_SECONDS // 2}) / {WINDOW_SECONDS}) AS BIGINT)"
# EC2 instance-profile credentials: the role session is named after the instance id.
INSTANCE_ARN_RE = r"^arn:aws[a-z-]*:sts::[0-9]{12}:assumed-role/[^/]+/i-[0-9a-fA-F]{8,17}$"
IPV4_RE = r"^[0-9]{1,3}(\.[0-9]{1,3}){3}$"
IPV6_RE = r"^[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2,7}$"


@dataclass(frozen=True, slots=True)
class StatefulDetection:
    """Metadata of one stateful detection and the SQL returning the event ids it flags."""

    id: str
    title: str
    description: str
    level: str
    tags: tuple[str, ...]
    sql: str
    falsepositives: tuple[str, ...] = ()
    references: tuple[str, ...] = ()

    def compiled(self) -> CompiledRule:
        """The detection as an engine rule: `event_id IN (<sql>)`."""
        return CompiledRule(
            id=self.id,
            title=self.title,
            level=self.level,
            where=f"event_id IN (SELECT event_id FROM ({self.sql}) AS flagged_{_slug(self.id)})",
            author="opencwpp",
            description=self.description,
            references=self.references,
            tags=self.tags,
            falsepositives=self.falsepositives,
            path=f"stateful:{self.id}",
            kind="stateful",
        )


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)


def is_ip(column: str) -> str:
    """SQL: the column holds a literal IPv4 or IPv6 address (not an AWS service name)."""
    return (
        f"(regexp_matches({column}, '{IPV4_RE}') "
        f"OR (regexp_matches({column}, '{IPV6_RE}') AND {column} LIKE '%:%' ESCAPE '\\'))"
    )


def _hot(bucket: str, threshold: int) -> str:
    """(who, bucket) pairs reaching `threshold` distinct values, busy pairs only.

    A pair needs `threshold` events before it can have `threshold` distinct values: counting
    events is a plain aggregate, and most pairs hold an event or two, so the costly DISTINCT
    only sees the few busy pairs (half the CPU of the burst detections on 1,000,000 events).
    """
    return (
        f"SELECT who, {bucket} FROM (SELECT DISTINCT who, {bucket}, k FROM ev WHERE EXISTS "
        f"(SELECT 1 FROM (SELECT who, {bucket} FROM ev GROUP BY who, {bucket} "
        f"HAVING count(*) >= {threshold}) AS busy "
        f"WHERE busy.who = ev.who AND busy.{bucket} = ev.{bucket})) AS d "
        f"GROUP BY who, {bucket} HAVING count(k) >= {threshold}"
    )


def burst_sql(
    where: str,
    distinct: str,
    threshold: int,
    identity: str,
    *,
    table: str = EVENTS,
    id_column: str = "event_id",
) -> str:
    """Events matching `where` in buckets where one identity reached `threshold` values.

    Values are the distinct `distinct` expressions within one 10-minute bucket (either series).
    `table` and `id_column` name another event table (the Azure Activity Log's records).
    """
    return (
        f"WITH ev AS (SELECT {id_column}, {identity} AS who, {distinct} AS k, "
        f"{BUCKET_A} AS b1, {BUCKET_B} AS b2 FROM {table} WHERE {where}), "
        f"hot1 AS ({_hot('b1', int(threshold))}), hot2 AS ({_hot('b2', int(threshold))}) "
        f"SELECT {id_column} FROM ev WHERE "
        "EXISTS (SELECT 1 FROM hot1 WHERE hot1.who = ev.who AND hot1.b1 = ev.b1) "
        "OR EXISTS (SELECT 1 FROM hot2 WHERE hot2.who = ev.who AND hot2.b2 = ev.b2)"
    )
