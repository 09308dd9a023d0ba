SELECT
    v.arn AS resource_uid,
    v.volume_id AS resource_name,
    v.account_id,
    v.region,
    v.tags,
    CASE WHEN v.state = 'available' THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN v.state = 'available'
             THEN 'The volume is attached to no instance (state available); '
                  || COALESCE(CAST(v.size AS VARCHAR), '?') || ' GiB, '
                  || CASE WHEN v.encrypted THEN 'encrypted' ELSE 'unencrypted' END
                  || COALESCE(', created ' || CAST(date_diff('day', v.create_time, current_timestamp) AS VARCHAR) || ' days ago', '') || '.'
         ELSE 'The volume is in state ' || COALESCE(NULLIF(v.state, ''), 'unknown') || '.' END AS detail
FROM aws_ec2_ebs_volumes AS v
