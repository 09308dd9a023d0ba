SELECT
    arn AS resource_uid,
    name AS resource_name,
    account_id,
    region,
    tags,
    CASE WHEN CAST(status->>'$.IsLogging' AS BOOLEAN) THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN CAST(status->>'$.IsLogging' AS BOOLEAN)
             THEN 'The trail is logging.'
         WHEN status->>'$.IsLogging' IS NULL
             THEN 'The trail''s logging status was not reported (GetTrailStatus), so it is not known to be logging.'
         ELSE 'The trail is not logging'
              || CASE WHEN status->>'$.StopLoggingTime' IS NOT NULL
                      THEN ' (stopped at ' || (status->>'$.StopLoggingTime') || ')' ELSE '' END
              || '.'
    END AS detail
FROM aws_cloudtrail_trails
