SELECT
    arn AS resource_uid,
    COALESCE(tags->>'$.Name', subnet_id) AS resource_name,
    request_account_id AS account_id,
    request_region AS region,
    tags,
    CASE WHEN map_public_ip_on_launch THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN map_public_ip_on_launch AND default_for_az
             THEN 'The subnet (the default subnet of ' || COALESCE(availability_zone, 'its zone') || ') gives every new instance a public IPv4 address.'
         WHEN map_public_ip_on_launch
             THEN 'The subnet gives every new instance a public IPv4 address (MapPublicIpOnLaunch).'
         ELSE 'The subnet does not assign public IPv4 addresses to new instances.'
    END AS detail
FROM aws_ec2_subnets
