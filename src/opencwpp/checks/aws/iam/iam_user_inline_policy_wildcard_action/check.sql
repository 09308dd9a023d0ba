WITH broad AS (
    SELECT
        s.source_arn,
        s.policy_name || ' (' || CASE WHEN v.element = 'NotAction' THEN 'NotAction ' ELSE '' END || v.value || ')' AS label
    FROM cwpp_aws_policy_statements AS s
    JOIN cwpp_aws_policy_statement_values AS v ON v.statement_id = s._cq_id
    WHERE s.source_table = 'aws_iam_user_policies'
      AND s.effect = 'Allow'
      AND (
          (v.element = 'Action' AND (v.value IN ('*', '*:*') OR regexp_matches(lower(v.value), '^[a-z0-9-]+:\*$')))
          OR v.element = 'NotAction'
      )
),
per_user AS (
    SELECT source_arn, string_agg(DISTINCT label, ', ' ORDER BY label) AS labels FROM broad GROUP BY source_arn
)
SELECT
    x.arn AS resource_uid,
    x.user_name AS resource_name,
    x.account_id,
    '' AS region,
    CASE WHEN p.source_arn IS NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN p.source_arn IS NULL THEN 'No inline policy of the user allows a whole service or every action.'
         ELSE 'Inline policy statements allow whole services or every action: ' || p.labels || '.' END AS detail
FROM aws_iam_users AS x
LEFT JOIN per_user AS p ON p.source_arn = x.arn
