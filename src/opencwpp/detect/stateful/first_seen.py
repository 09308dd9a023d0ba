"""First seen: an identity doing something new compared with its own recent past.

Reference time is the newest event in the table (so history can be replayed). The baseline is
the `BASELINE_DAYS` days before the last `RECENT_HOURS` hours; only identities with at least
`MIN_BASELINE_EVENTS` baseline events are judged (a new identity has no habits yet). An event
in the recent window is flagged when its key never occurs in the identity's baseline:
- API: event source + event name + region;
- network: the /24 of an IPv4 source address, the /48 of an IPv6 one (AWS service names skip);
- user agent family: the first token of the user agent without its version (`aws-cli`,
  `Boto3`, `console.amazonaws.com` …), so upgrades of a tool are not news.
"""

from __future__ import annotations

from opencwpp.detect.stateful.base import EVENTS, IPV4_RE, StatefulDetection, is_ip

BASELINE_DAYS = 14
RECENT_HOURS = 24
MIN_BASELINE_EVENTS = 20

_API = "event_source || ':' || event_name || '@' || COALESCE(aws_region, '')"
_NETWORK = (
    f"CASE WHEN NOT {is_ip('source_ip_address')} THEN NULL "
    f"WHEN regexp_matches(source_ip_address, '{IPV4_RE}') THEN "
    "split_part(source_ip_address, '.', 1) || '.' || split_part(source_ip_address, '.', 2) "
    "|| '.' || split_part(source_ip_address, '.', 3) || '.0/24' "
    "ELSE lower(split_part(source_ip_address, ':', 1) || ':' "
    "|| split_part(source_ip_address, ':', 2) || ':' "
    "|| split_part(source_ip_address, ':', 3)) || '::/48' END"
)
_AGENT = (
    "NULLIF(lower(replace(split_part(split_part(trim(user_agent), ' ', 1), '/', 1), '[', '')), '')"
)


def first_seen_sql(key: str, columns: str = "") -> str:
    """Recent events whose `key` the (established) identity never used in its baseline.

    The recent events are few: they are picked first, and the baseline is reduced to the
    distinct (identity, key) pairs of the identities they belong to before the anti-join.
    With `columns` (the columns `key` reads), the baseline is first grouped by identity and
    those columns, so `key` is computed once a group rather than once an event: a quarter
    cheaper when the groups are few (APIs, user agents), three times dearer when nearly every
    event is a group of its own (addresses: called without `columns`).
    """
    recent = f"ref.t - INTERVAL {RECENT_HOURS} HOUR"
    start = f"{recent} - INTERVAL {BASELINE_DAYS} DAY"
    window = (
        f"FROM {EVENTS} AS e, ref WHERE e.event_time < {recent} AND e.event_time >= {start} "
        "AND e.user_identity_arn IN (SELECT who FROM recent WHERE k IS NOT NULL)"
    )
    if columns:
        base = (
            f"base AS (SELECT e.user_identity_arn AS who, {columns}, count(*) AS n {window} "
            f"GROUP BY e.user_identity_arn, {columns}), "
            "known AS (SELECT who FROM base GROUP BY who "
            f"HAVING sum(n) >= {MIN_BASELINE_EVENTS}), "
            f"seen AS (SELECT DISTINCT who, k FROM (SELECT who, {key} AS k FROM base) AS keyed "
            "WHERE k IS NOT NULL) "
        )
    else:
        base = (
            f"base AS (SELECT e.user_identity_arn AS who, {key} AS k {window}), "
            "known AS (SELECT who FROM base GROUP BY who "
            f"HAVING count(*) >= {MIN_BASELINE_EVENTS}), "
            "seen AS (SELECT DISTINCT who, k FROM base WHERE k IS NOT NULL) "
        )
    return (
        f"WITH ref AS (SELECT max(event_time) AS t FROM {EVENTS}), "
        f"recent AS (SELECT e.event_id, e.user_identity_arn AS who, {key} AS k "
        f"FROM {EVENTS} AS e, ref WHERE e.user_identity_arn IS NOT NULL "
        f"AND e.event_time >= {recent}), "
        f"{base}"
        "SELECT recent.event_id FROM recent "
        "WHERE recent.k IS NOT NULL "
        "AND recent.who IN (SELECT who FROM known) "
        "AND NOT EXISTS (SELECT 1 FROM seen WHERE seen.who = recent.who AND seen.k = recent.k)"
    )


_FP = ("New duties, new tooling or travel; review with the identity's owner",)

NEW_API = StatefulDetection(
    id="first-seen-api-region",
    title="Identity called an API or region it never used before",
    description=(
        f"An identity with an established {BASELINE_DAYS}-day history called a service API, or "
        "used a region, absent from that history: stolen credentials are used differently from "
        "their owner."
    ),
    level="low",
    tags=("attack.initial-access", "attack.t1078.004", "attack.discovery"),
    sql=first_seen_sql(_API, "event_source, event_name, aws_region"),
    falsepositives=_FP,
    references=("https://attack.mitre.org/techniques/T1078/004/",),
)

NEW_NETWORK = StatefulDetection(
    id="first-seen-source-network",
    title="Identity called from a network it never used before",
    description=(
        "An identity with an established history called from an IPv4 /24 or IPv6 /48 it never "
        "called from in its baseline."
    ),
    level="low",
    tags=("attack.initial-access", "attack.t1078.004"),
    sql=first_seen_sql(_NETWORK),
    falsepositives=_FP,
    references=("https://attack.mitre.org/techniques/T1078/004/",),
)

NEW_AGENT = StatefulDetection(
    id="first-seen-user-agent",
    title="Identity used a client tool it never used before",
    description=(
        "An identity with an established history called with a user-agent family (aws-cli, "
        "Boto3, a console, a scanner …) absent from its baseline."
    ),
    level="low",
    tags=("attack.initial-access", "attack.t1078.004", "attack.execution"),
    sql=first_seen_sql(_AGENT, "user_agent"),
    falsepositives=_FP,
    references=("https://attack.mitre.org/techniques/T1078/004/",),
)

DETECTIONS = (NEW_API, NEW_NETWORK, NEW_AGENT)
