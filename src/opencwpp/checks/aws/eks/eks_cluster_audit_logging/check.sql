WITH logs AS (
    SELECT
        cluster_arn,
        MAX(CASE WHEN log_type = 'audit' AND enabled THEN 1 ELSE 0 END) AS audit,
        string_agg(DISTINCT log_type, ', ' ORDER BY log_type) FILTER (WHERE enabled) AS enabled_types
    FROM cwpp_aws_eks_cluster_log_types
    GROUP BY cluster_arn
)
SELECT
    c.arn AS resource_uid,
    c.name AS resource_name,
    c.account_id,
    c.region,
    c.tags,
    CASE WHEN l.audit = 1 THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN l.audit = 1 THEN 'Control plane logs on: ' || l.enabled_types || '.'
         WHEN l.enabled_types IS NOT NULL THEN 'Audit logging is off; control plane logs on: ' || l.enabled_types || '.'
         ELSE 'No control plane log type is enabled.'
    END AS detail
FROM aws_eks_clusters AS c
LEFT JOIN logs AS l ON l.cluster_arn = c.arn
