WITH vpc_logs AS (
    -- Flow logs attached to the VPC itself (not to one subnet or interface).
    SELECT
        v.arn,
        string_agg(fl.flow_log_id || ' (' || COALESCE(fl.traffic_type, '?') || ')', ', ' ORDER BY fl.flow_log_id)
            FILTER (WHERE upper(COALESCE(fl.flow_log_status, 'ACTIVE')) = 'ACTIVE'
                      AND upper(COALESCE(fl.deliver_logs_status, 'SUCCESS')) <> 'FAILED') AS working,
        string_agg(fl.flow_log_id, ', ' ORDER BY fl.flow_log_id)
            FILTER (WHERE NOT (upper(COALESCE(fl.flow_log_status, 'ACTIVE')) = 'ACTIVE'
                      AND upper(COALESCE(fl.deliver_logs_status, 'SUCCESS')) <> 'FAILED')) AS broken
    FROM aws_ec2_vpcs AS v
    LEFT JOIN aws_ec2_flow_logs AS fl
        ON fl.resource_id = v.vpc_id AND fl.account_id = v.account_id AND fl.region = v.region
    GROUP BY v.arn
)
SELECT
    v.arn AS resource_uid,
    COALESCE(v.tags->>'$.Name', v.vpc_id) AS resource_name,
    v.account_id,
    v.region,
    v.tags,
    CASE WHEN l.working IS NOT NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN l.working IS NOT NULL
             THEN 'VPC flow log(s): ' || l.working || '.'
         WHEN l.broken IS NOT NULL
             THEN 'The VPC''s flow log(s) ' || l.broken || ' are not active or fail to deliver.'
         ELSE 'The VPC has no flow log.'
    END AS detail
FROM aws_ec2_vpcs AS v
JOIN vpc_logs AS l ON l.arn = v.arn
