-- An interface's groups are rows of cwpp_aws_ec2_network_interface_security_groups. "default" is
-- a reserved group name: only a VPC's default security group carries it.
WITH in_default AS (
    SELECT
        g.network_interface_arn,
        string_agg(g.group_id, ', ' ORDER BY g.group_id) AS groups
    FROM cwpp_aws_ec2_network_interface_security_groups AS g
    WHERE g.group_name = 'default'
    GROUP BY g.network_interface_arn
),
public AS (
    SELECT
        n.*,
        COALESCE(NULLIF(n.association->>'$.PublicIp', ''), NULLIF(n.ipv6_address, '')) AS address
    FROM aws_ec2_network_interfaces AS n
)
SELECT
    n.arn AS resource_uid,
    COALESCE(n.tags->>'$.Name', n.network_interface_id) AS resource_name,
    n.account_id,
    n.region,
    n.tags,
    CASE WHEN d.network_interface_arn IS NOT NULL THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN d.network_interface_arn IS NOT NULL
             THEN 'The ' || COALESCE(n.interface_type, 'interface') || ' interface'
                  || COALESCE(' (' || NULLIF(n.description, '') || ')', '')
                  || ' has public address ' || n.address || ' and is in the VPC''s default security group ' || d.groups
                  || ', which lets every member of that group reach it on every port, and it them.'
         ELSE 'The interface has public address ' || n.address || ' and is only in purpose-made security groups.' END AS detail
FROM public AS n
LEFT JOIN in_default AS d ON d.network_interface_arn = n.arn
WHERE n.address IS NOT NULL
