SELECT
    arn AS resource_uid,
    COALESCE(tags->>'$.Name', instance_id) AS resource_name,
    account_id,
    region,
    tags,
    CASE WHEN NULLIF(public_ip_address, '') IS NOT NULL THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN NULLIF(public_ip_address, '') IS NOT NULL
             THEN 'The instance has the public IPv4 address ' || public_ip_address
                  || ' (state ' || COALESCE(state->>'$.Name', 'unknown') || '); its security groups decide what the internet can reach.'
         ELSE 'The instance has no public IPv4 address.'
    END AS detail
FROM aws_ec2_instances
