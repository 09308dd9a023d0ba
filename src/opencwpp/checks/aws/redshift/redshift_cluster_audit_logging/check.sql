WITH clusters AS (
    SELECT
        c.*,
        lower(COALESCE(c.logging_status->>'$.LoggingEnabled', 'false')) = 'true' AS logging_on,
        COALESCE(NULLIF(c.logging_status->>'$.BucketName', ''), NULLIF(c.logging_status->>'$.LogDestinationType', '')) AS destination
    FROM aws_redshift_clusters AS c
)
SELECT
    arn AS resource_uid,
    cluster_identifier AS resource_name,
    account_id,
    region,
    tags,
    CASE WHEN logging_on THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN logging_on THEN 'Audit logging is on (destination: ' || COALESCE(destination, 'not reported') || ').'
         WHEN logging_status IS NULL THEN 'The cluster''s logging status was not reported: audit logging is treated as off.'
         ELSE 'Audit logging is off: connections and user changes are not logged.'
    END AS detail
FROM clusters
