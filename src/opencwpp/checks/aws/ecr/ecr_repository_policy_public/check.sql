-- Public statements come from the shared view (checks/views/), which knows the principals
-- that mean everyone and the conditions that restrict the caller.
SELECT
    x.arn AS resource_uid,
    x.repository_name AS resource_name,
    x.account_id,
    x.region,
    x.tags AS tags,
    CASE WHEN p.labels IS NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN p.labels IS NULL
             THEN 'The repository policy has no Allow statement for everyone without a restricting condition.'
         ELSE 'Repository policy statement(s) ' || p.labels || ' allow everyone (a wildcard principal or NotPrincipal) without a condition that restricts the caller.'
    END AS detail
FROM aws_ecr_repositories AS x
LEFT JOIN cwpp_aws_public_policy_statements AS p
    ON p.source_table = 'aws_ecr_repository_policies' AND p.source_arn = x.arn
