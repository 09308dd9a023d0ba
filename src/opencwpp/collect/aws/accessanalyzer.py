"""IAM Access Analyzer analyzers (account or organization zone of trust) and archive rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.aws._shape import columns, need_region, shape, with_ids
from opencwpp.collect.base import Resource, Rows, SessionContext, paginate, register
from opencwpp.lake.schema import table

ANALYZERS = table(
    "aws_accessanalyzer_analyzers",
    columns(
        "account_id region arn created_at:ts name status type last_resource_analyzed "
        "last_resource_analyzed_at:ts status_reason:json tags:json"
    ),
    cq_id_from=["arn"],
)
ARCHIVE_RULES = table(
    "aws_accessanalyzer_analyzer_archive_rules",
    columns("account_id region analyzer_arn created_at:ts filter:json rule_name updated_at:ts"),
    cq_id_from=["analyzer_arn", "rule_name"],
    parent="aws_accessanalyzer_analyzers",
)


def transform_analyzer(
    account_id: str, region: str, analyzer: Mapping[str, Any], rules: list[Mapping[str, Any]]
) -> Rows:
    """The analyzer row and one row per archive rule (findings it auto-archives)."""
    parent = with_ids(
        ANALYZERS,
        shape(ANALYZERS, analyzer, pascal_json=True, account_id=account_id, region=region),
    )
    out: Rows = {ANALYZERS: [parent], ARCHIVE_RULES: []}
    for rule in rules:
        row = shape(
            ARCHIVE_RULES,
            rule,
            pascal_json=True,
            account_id=account_id,
            region=region,
            analyzer_arn=parent["arn"],
        )
        out[ARCHIVE_RULES].append(with_ids(ARCHIVE_RULES, row, parent))
    return out


def fetch_analyzers(ctx: SessionContext, region: str | None) -> Rows:
    """The region's analyzers (none: Access Analyzer is not set up there)."""
    region = need_region("accessanalyzer.analyzers", region)
    client: Any = ctx.client("accessanalyzer", region)
    out: Rows = {ANALYZERS: [], ARCHIVE_RULES: []}
    for analyzer in paginate(client, "list_analyzers", "analyzers"):
        rules = paginate(
            client, "list_archive_rules", "archiveRules", analyzerName=analyzer["name"]
        )
        for tbl, items in transform_analyzer(ctx.account_id, region, analyzer, rules).items():
            out[tbl] += items
    return out


register(
    Resource(
        name="accessanalyzer.analyzers",
        service="accessanalyzer",
        tables=(ANALYZERS, ARCHIVE_RULES),
        permissions=("access-analyzer:ListAnalyzers", "access-analyzer:ListArchiveRules"),
        fetch=fetch_analyzers,
        description="IAM Access Analyzer analyzers and their archive rules.",
    )
)
