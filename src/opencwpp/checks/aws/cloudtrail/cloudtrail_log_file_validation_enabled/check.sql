SELECT
    arn AS resource_uid,
    name AS resource_name,
    account_id,
    region,
    tags,
    CASE WHEN log_file_validation_enabled THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN log_file_validation_enabled
             THEN 'Log file integrity validation is on: CloudTrail delivers signed digest files.'
         ELSE 'Log file integrity validation is off (or not reported): changes to or deletion of delivered log files cannot be proven.'
    END AS detail
FROM aws_cloudtrail_trails
