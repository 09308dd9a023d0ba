SELECT
    i.arn AS resource_uid,
    COALESCE(NULLIF(i.tags->>'$.Name', ''), i.instance_id) AS resource_name,
    i.account_id,
    i.region,
    i.tags,
    CASE WHEN v.is_default THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN v.is_default THEN 'The instance runs in the default VPC ' || v.vpc_id || '.'
         ELSE 'The instance runs in VPC ' || v.vpc_id || ', which is not the default VPC.' END AS detail
FROM aws_ec2_instances AS i
JOIN aws_ec2_vpcs AS v ON v.vpc_id = i.vpc_id AND v.account_id = i.account_id AND v.region = i.region
WHERE lower(COALESCE(i.state->>'$.Name', '')) NOT IN ('terminated', 'shutting-down')
