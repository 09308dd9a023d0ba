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


def _head(key: str, source: str = f"{EVENTS} AS e", before: str = "") -> tuple[str, str]:
    """The CTEs up to the recent events (with their `key`) and the baseline's FROM … WHERE.

    `source` is where the recent events come from (`e`, possibly joined with `before`'s CTEs).
    """
    recent = f"ref.t - INTERVAL {RECENT_HOURS} HOUR"
    start = f"{recent} - INTERVAL {BASELINE_DAYS} DAY"
    head = (
        f"WITH {before}ref AS (SELECT max(event_time) AS t FROM {EVENTS}), "
        f"recent AS (SELECT e.event_id, e.user_identity_arn AS who, {key} AS k "
        f"FROM {source} CROSS JOIN ref "
        f"WHERE e.user_identity_arn IS NOT NULL AND e.event_time >= {recent}), "
    )
    window = (
        f"FROM {EVENTS} AS e CROSS JOIN ref WHERE e.event_time < {recent} "
        f"AND e.event_time >= {start} "
        "AND e.user_identity_arn IN (SELECT who FROM recent WHERE k IS NOT NULL)"
    )
    return head, window


_VERDICT = (
    "SELECT recent.event_id FROM recent WHERE recent.k IS NOT NULL "
    "AND recent.who IN (SELECT who FROM known) "
)


def first_seen_sql(key: str, columns: str) -> str:
    """Recent events whose `key` the (established) identity never used in its baseline.

    The recent events are few: they are picked first, and the baseline is reduced to the
    distinct (identity, key) pairs of the identities they belong to before the anti-join.
    The baseline is first grouped by identity and `columns` (the columns `key` reads), so
    `key` is computed once a group rather than once an event: a quarter cheaper when the
    groups are few (APIs, user agents). When nearly every event is a group of its own
    (addresses), `first_seen_by_value_sql` is the cheaper way.
    """
    head, window = _head(key)
    return (
        f"{head}base AS (SELECT e.user_identity_arn AS who, {columns}, count(*) AS n {window} "
        f"GROUP BY e.user_identity_arn, {columns}), "
        f"known AS (SELECT who FROM base GROUP BY who HAVING sum(n) >= {MIN_BASELINE_EVENTS}), "
        f"seen AS (SELECT DISTINCT who, k FROM (SELECT who, {key} AS k FROM base) AS keyed "
        "WHERE k IS NOT NULL) "
        f"{_VERDICT}"
        "AND NOT EXISTS (SELECT 1 FROM seen WHERE seen.who = recent.who AND seen.k = recent.k)"
    )


def first_seen_by_value_sql(key: str, value: str) -> str:
    """`first_seen_sql` for a `key` of the one column `value`, whose distinct values are few.

    The key (two regular expressions and string splitting for a network) is computed once
    per distinct value in the table (a few thousand addresses) into `keys`, not once per
    event (a million), and the baseline is not grouped by (identity, key), which here is
    nearly one group per event: its events meet the recent (identity, key) pairs, through
    `keys`, in the anti-join. The same alerts for 40% less CPU in the network detection on
    1,000,000 events (0.49 to 0.28 s). `known` still counts every baseline event, keyed or not.
    """
    head, window = _head(
        "keys.k",
        f"{EVENTS} AS e JOIN keys ON keys.{value} = e.{value} AND keys.k IS NOT NULL",
        f"keys AS (SELECT {value}, {key} AS k FROM (SELECT DISTINCT {value} FROM {EVENTS}) AS d), ",
    )
    return (
        f"{head}base AS (SELECT e.user_identity_arn AS who, e.{value} {window}), "
        f"known AS (SELECT who FROM base GROUP BY who HAVING count(*) >= {MIN_BASELINE_EVENTS}) "
        f"{_VERDICT}"
        f"AND NOT EXISTS (SELECT 1 FROM base JOIN keys ON keys.{value} = base.{value} "
        "WHERE base.who = recent.who AND keys.k = recent.k)"
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
    sql=first_seen_by_value_sql(_NETWORK, "source_ip_address"),
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
