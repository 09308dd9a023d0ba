SELECT
    arn AS resource_uid,
    cluster_identifier AS resource_name,
    account_id,
    region,
    tags,
    CASE WHEN publicly_accessible THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN publicly_accessible THEN 'The cluster endpoint is publicly accessible (it resolves to a public IP address).'
         ELSE 'The cluster is reachable only from inside its VPC.'
    END AS detail
FROM aws_redshift_clusters
