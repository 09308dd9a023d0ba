WITH secrets AS (
    SELECT cluster_arn, MIN(key_arn) AS key_arn
    FROM cwpp_aws_eks_cluster_encryption
    WHERE resource = 'secrets'
    GROUP BY cluster_arn
)
SELECT
    c.arn AS resource_uid,
    c.name AS resource_name,
    c.account_id,
    c.region,
    c.tags,
    CASE WHEN s.cluster_arn IS NULL THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN s.cluster_arn IS NULL
             THEN 'Kubernetes secrets are not envelope-encrypted with a KMS key.'
         ELSE 'Kubernetes secrets are envelope-encrypted with KMS key ' || COALESCE(s.key_arn, '(not reported)') || '.'
    END AS detail
FROM aws_eks_clusters AS c
LEFT JOIN secrets AS s ON s.cluster_arn = c.arn
