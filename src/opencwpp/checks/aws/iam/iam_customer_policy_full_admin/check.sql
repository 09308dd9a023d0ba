WITH admin_statements AS (
    SELECT
        s.source_arn,
        string_agg(COALESCE('"' || NULLIF(s.sid, '') || '"', '#' || CAST(s.statement_index AS VARCHAR)),
                   ', ' ORDER BY s.statement_index) AS labels
    FROM cwpp_aws_policy_statements AS s
    WHERE s.source_table = 'aws_iam_policies'
      AND s.effect = 'Allow'
      AND EXISTS (
          SELECT 1 FROM cwpp_aws_policy_statement_values AS v
          WHERE v.statement_id = s._cq_id AND v.element = 'Action' AND v.value IN ('*', '*:*')
      )
      AND EXISTS (
          SELECT 1 FROM cwpp_aws_policy_statement_values AS v
          WHERE v.statement_id = s._cq_id AND v.element = 'Resource' AND v.value = '*'
      )
    GROUP BY s.source_arn
)
SELECT
    p.arn AS resource_uid,
    p.policy_name AS resource_name,
    p.account_id,
    '' AS region,
    p.tags,
    CASE WHEN a.source_arn IS NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN a.source_arn IS NULL THEN 'The policy has no statement allowing Action "*" on Resource "*".'
         ELSE 'Statement(s) ' || a.labels || ' of the default version allow Action "*" on Resource "*"; the policy is attached to '
              || CAST(COALESCE(p.attachment_count, 0) AS VARCHAR) || ' identities.' END AS detail
FROM aws_iam_policies AS p
LEFT JOIN admin_statements AS a ON a.source_arn = p.arn
WHERE split_part(p.arn, ':', 5) <> 'aws'
