SELECT
    arn AS resource_uid,
    launch_configuration_name AS resource_name,
    account_id,
    region,
    CASE WHEN associate_public_ip_address THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN associate_public_ip_address
             THEN 'Instances launched from this configuration get a public IP address (AssociatePublicIpAddress true).'
         WHEN associate_public_ip_address IS NULL
             THEN 'The configuration does not set AssociatePublicIpAddress: the subnet''s setting decides.'
         ELSE 'Instances launched from this configuration get no public IP address.'
    END AS detail
FROM aws_autoscaling_launch_configurations
