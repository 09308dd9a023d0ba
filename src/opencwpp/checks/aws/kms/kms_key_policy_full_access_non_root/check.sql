WITH full_access AS (
    -- Allow kms:* (or *) statements of key policies, one row per non-root AWS principal.
    SELECT DISTINCT s.source_arn, p.value AS principal
    FROM cwpp_aws_policy_statements AS s
    JOIN cwpp_aws_policy_statement_values AS a
        ON a.statement_id = s._cq_id AND a.element = 'Action' AND lower(a.value) IN ('kms:*', '*')
    JOIN cwpp_aws_policy_statement_values AS p
        ON p.statement_id = s._cq_id AND p.element = 'Principal' AND p.principal_type = 'AWS'
    WHERE s.source_table = 'aws_kms_key_policies'
      AND s.effect = 'Allow'
      AND p.value NOT LIKE '%*%' ESCAPE '\'
      AND NOT regexp_matches(p.value, '^(arn:[^:]+:iam::[0-9]{12}:root|[0-9]{12})$')
),
per_key AS (
    SELECT source_arn, string_agg(principal, ', ' ORDER BY principal) AS principals
    FROM full_access
    GROUP BY source_arn
)
SELECT
    k.arn AS resource_uid,
    k.key_id AS resource_name,
    k.account_id,
    k.region,
    k.tags,
    CASE WHEN f.source_arn IS NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN f.source_arn IS NULL THEN 'The key policy grants kms:* only to account roots, if at all.'
         ELSE 'The key policy grants kms:* to ' || f.principals || '.' END AS detail
FROM aws_kms_keys AS k
LEFT JOIN per_key AS f ON f.source_arn = k.arn
WHERE k.key_manager = 'CUSTOMER'
