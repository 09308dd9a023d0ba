SELECT
    arn AS resource_uid,
    db_instance_identifier AS resource_name,
    account_id,
    region,
    tags,
    CASE WHEN publicly_accessible THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN publicly_accessible
             THEN 'The DB instance is publicly accessible: its endpoint resolves to a public IP address'
                  || CASE WHEN endpoint->>'$.Address' IS NOT NULL
                          THEN ' (' || (endpoint->>'$.Address') || ')' ELSE '' END
                  || ', and only its security groups stand between it and the internet.'
         WHEN publicly_accessible IS NULL
             THEN 'RDS did not report PubliclyAccessible for the DB instance; it is treated as private.'
         ELSE 'The DB instance is not publicly accessible.'
    END AS detail
FROM aws_rds_instances
