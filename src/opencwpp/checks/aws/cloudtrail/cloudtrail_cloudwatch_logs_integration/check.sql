SELECT
    arn AS resource_uid,
    name AS resource_name,
    account_id,
    region,
    tags,
    CASE WHEN NULLIF(cloud_watch_logs_log_group_arn, '') IS NOT NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN NULLIF(cloud_watch_logs_log_group_arn, '') IS NOT NULL
             THEN 'The trail delivers to CloudWatch Logs group '
                  || COALESCE(cloudwatch_logs_log_group_name, cloud_watch_logs_log_group_arn)
                  || CASE WHEN status->>'$.LatestCloudWatchLogsDeliveryError' IS NOT NULL
                          THEN ' (the latest delivery failed: ' || (status->>'$.LatestCloudWatchLogsDeliveryError') || ')'
                          ELSE '' END
                  || '.'
         ELSE 'The trail does not deliver events to CloudWatch Logs, so no metric filter or alarm can watch them in near real time.'
    END AS detail
FROM aws_cloudtrail_trails
