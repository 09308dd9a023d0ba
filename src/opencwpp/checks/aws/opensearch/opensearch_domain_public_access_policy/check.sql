-- Public statements come from the shared view (checks/views/); a domain without a VPC id has an
-- internet-facing endpoint.
WITH domains AS (
    SELECT d.*, COALESCE(d.vpc_options->>'$.VPCId', '') <> '' AS in_vpc
    FROM aws_elasticsearch_domains AS d
    WHERE NOT COALESCE(d.deleted, FALSE)
)
SELECT
    d.arn AS resource_uid,
    d.domain_name AS resource_name,
    d.account_id,
    d.region,
    d.tags,
    CASE WHEN p.labels IS NOT NULL AND NOT d.in_vpc THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN p.labels IS NOT NULL AND NOT d.in_vpc
             THEN 'Internet-facing endpoint, and access policy statement(s) ' || p.labels || ' allow everyone without a condition that restricts the caller.'
         WHEN p.labels IS NOT NULL
             THEN 'Access policy statement(s) ' || p.labels || ' allow everyone, but the domain is only reachable inside VPC ' || (d.vpc_options->>'$.VPCId') || '.'
         WHEN NOT d.in_vpc
             THEN 'The endpoint is internet-facing, but the access policy does not allow everyone.'
         ELSE 'The domain is in a VPC and its access policy does not allow everyone.'
    END AS detail
FROM domains AS d
LEFT JOIN cwpp_aws_public_policy_statements AS p
    ON p.source_table = 'aws_elasticsearch_domains' AND p.source_arn = d.arn
