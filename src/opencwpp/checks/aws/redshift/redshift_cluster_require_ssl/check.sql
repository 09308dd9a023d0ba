WITH ssl AS (
    SELECT cluster_arn, lower(MIN(parameter_value)) AS require_ssl
    FROM aws_redshift_cluster_parameters
    WHERE parameter_name = 'require_ssl'
    GROUP BY cluster_arn
)
SELECT
    c.arn AS resource_uid,
    c.cluster_identifier AS resource_name,
    c.account_id,
    c.region,
    c.tags,
    CASE WHEN s.require_ssl IN ('true', '1', 'on') THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN s.require_ssl IN ('true', '1', 'on') THEN 'The parameter group requires TLS for every connection (require_ssl true).'
         WHEN s.require_ssl IS NULL THEN 'No require_ssl parameter was reported for the cluster: connections without TLS are accepted by default.'
         ELSE 'The parameter group accepts connections without TLS (require_ssl ' || s.require_ssl || ').'
    END AS detail
FROM aws_redshift_clusters AS c
LEFT JOIN ssl AS s ON s.cluster_arn = c.arn
