-- Endpoint policy statements are rows (source_table aws_ec2_vpc_endpoints). A statement is
-- unrestricted when it allows every principal on every resource and no condition pins either the
-- caller's or the resource's account or organization. The shared public-policy view is not used:
-- on an endpoint policy the network keys it accepts (aws:SourceVpc, aws:SourceVpce) are true for
-- every request through the endpoint, and a Resource list is what restricts it.
WITH everyone AS (
    SELECT DISTINCT s._cq_id AS statement_id, s.source_arn, s.statement_index, s.sid
    FROM cwpp_aws_policy_statements AS s
    JOIN cwpp_aws_policy_statement_values AS v ON v.statement_id = s._cq_id
    WHERE s.source_table = 'aws_ec2_vpc_endpoints'
      AND s.effect = 'Allow'
      AND (
          (v.element = 'Principal' AND v.principal_type = '*')
          OR (v.element = 'Principal' AND v.principal_type = 'AWS' AND v.value LIKE '%*%' ESCAPE '\')
          OR v.element = 'NotPrincipal'
      )
),
any_resource AS (
    SELECT DISTINCT v.statement_id
    FROM cwpp_aws_policy_statement_values AS v
    WHERE v.source_table = 'aws_ec2_vpc_endpoints'
      AND ((v.element = 'Resource' AND v.value = '*') OR v.element = 'NotResource')
),
perimeter AS (
    SELECT DISTINCT c.statement_id
    FROM cwpp_aws_policy_statement_conditions AS c
    WHERE c.source_table = 'aws_ec2_vpc_endpoints'
      AND c.condition_key IN (
          'aws:principalorgid', 'aws:principalorgpaths', 'aws:principalaccount', 'aws:principalarn',
          'aws:userid', 'aws:resourceorgid', 'aws:resourceorgpaths', 'aws:resourceaccount',
          's3:resourceaccount'
      )
      AND lower(c.operator) NOT LIKE '%not%' ESCAPE '\'
      AND lower(c.operator) NOT LIKE '%ifexists' ESCAPE '\'
      AND lower(c.operator) NOT LIKE 'forallvalues:%' ESCAPE '\'
      AND c.value NOT LIKE '%*%' ESCAPE '\'
      AND c.value NOT LIKE '%?%' ESCAPE '\'
      AND c.value <> ''
),
open_statements AS (
    SELECT
        e.source_arn,
        string_agg(
            COALESCE('"' || NULLIF(e.sid, '') || '"', '#' || CAST(e.statement_index AS VARCHAR)),
            ', ' ORDER BY e.statement_index
        ) AS labels
    FROM everyone AS e
    JOIN any_resource AS r ON r.statement_id = e.statement_id
    LEFT JOIN perimeter AS p ON p.statement_id = e.statement_id
    WHERE p.statement_id IS NULL
    GROUP BY e.source_arn
)
SELECT
    ep.arn AS resource_uid,
    COALESCE(ep.tags->>'$.Name', ep.vpc_endpoint_id) || ' (' || COALESCE(ep.service_name, '?') || ')' AS resource_name,
    ep.account_id,
    ep.region,
    ep.tags,
    CASE WHEN o.source_arn IS NOT NULL THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN o.source_arn IS NOT NULL
             THEN 'Endpoint policy statement(s) ' || o.labels || ' allow any principal to use the endpoint on any resource, without an account or organization condition.'
         ELSE 'The endpoint policy limits the principals or the resources reachable through the endpoint.' END AS detail
FROM aws_ec2_vpc_endpoints AS ep
LEFT JOIN open_statements AS o ON o.source_arn = ep.arn
WHERE NULLIF(ep.policy_document, '') IS NOT NULL
