WITH services AS (
    SELECT s.*, upper(COALESCE(s.network_configuration->>'$.AwsvpcConfiguration.AssignPublicIp', '')) AS assign_public_ip
    FROM aws_ecs_cluster_services AS s
)
SELECT
    s.arn AS resource_uid,
    s.service_name AS resource_name,
    s.account_id,
    s.region,
    s.tags,
    CASE WHEN s.assign_public_ip = 'ENABLED' THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN s.assign_public_ip = 'ENABLED' THEN 'The service gives each task a public IP address (AssignPublicIp ENABLED).'
         WHEN s.assign_public_ip = 'DISABLED' THEN 'Tasks of the service get no public IP address.'
         ELSE 'The service has no awsvpc network configuration assigning public IP addresses.'
    END AS detail
FROM services AS s
WHERE COALESCE(s.status, '') <> 'INACTIVE'
