"""OpenSearch Service / Elasticsearch domains (CloudQuery's `aws_elasticsearch_domains`).

The Elasticsearch configuration API lists OpenSearch and Elasticsearch domains alike. Each row
carries encryption at rest, node-to-node encryption, endpoint options (HTTPS, TLS policy) and
VPC options; the access policy is kept as text and split into statement rows, so the shared
public-policy view judges it. `authorized_principals` (ListVpcEndpointAccess) is left empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencwpp.collect.aws._shape import (
    columns,
    empty,
    extend,
    need_region,
    shape,
    tags_of,
    with_ids,
)
from opencwpp.collect.aws.policies import POLICY_TABLES, split_policy
from opencwpp.collect.base import Resource, Rows, SessionContext, register
from opencwpp.lake.schema import table

DOMAINS = table(
    "aws_elasticsearch_domains",
    columns(
        """
        account_id region authorized_principals:json tags:json arn domain_id domain_name
        elasticsearch_cluster_config:json access_policies advanced_options:json
        advanced_security_options:json auto_tune_options:json change_progress_details:json
        cognito_options:json created:bool deleted:bool domain_endpoint_options:json
        ebs_options:json elasticsearch_version encryption_at_rest_options:json endpoint
        endpoints:json log_publishing_options:json node_to_node_encryption_options:json
        processing:bool service_software_options:json snapshot_options:json
        upgrade_processing:bool vpc_options:json
        """
    ),
    cq_id_from=["arn"],
)
TABLES = (DOMAINS, *POLICY_TABLES)
DESCRIBE_MAX = 5


def transform_domain(
    account_id: str, region: str, domain: Mapping[str, Any], tags: Any = None
) -> Rows:
    """The domain row and its access policy's statement rows."""
    domain_arn = str(domain["ARN"])
    row = shape(
        DOMAINS,
        domain,
        account_id=account_id,
        region=region,
        arn=domain_arn,
        tags=tags_of(tags),
    )
    out = empty(TABLES)
    out[DOMAINS].append(with_ids(DOMAINS, row))
    policy = domain.get("AccessPolicies")
    if policy:
        extend(
            out,
            split_policy(
                policy, account_id=account_id, source_table=DOMAINS.name, source_arn=domain_arn
            ),
        )
    return out


def fetch_domains(ctx: SessionContext, region: str | None) -> Rows:
    """Every domain of one region with its tags and access policy statements."""
    region = need_region("es.domains", region)
    es = ctx.client("es", region)
    out = empty(TABLES)
    names = [d["DomainName"] for d in es.list_domain_names().get("DomainNames", [])]
    for start in range(0, len(names), DESCRIBE_MAX):
        batch = names[start : start + DESCRIBE_MAX]
        answer = es.describe_elasticsearch_domains(DomainNames=batch)
        for domain in answer.get("DomainStatusList", []):
            tags = es.list_tags(ARN=domain["ARN"]).get("TagList")
            extend(out, transform_domain(ctx.account_id, region, domain, tags))
    return out


register(
    Resource(
        name="es.domains",
        service="es",
        tables=TABLES,
        permissions=("es:ListDomainNames", "es:DescribeElasticsearchDomains", "es:ListTags"),
        fetch=fetch_domains,
        description="OpenSearch / Elasticsearch domains: encryption, TLS, VPC, access policy.",
    )
)
