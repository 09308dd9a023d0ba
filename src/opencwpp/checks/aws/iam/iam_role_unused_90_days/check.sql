-- RoleLastUsed.LastUsedDate is JSON text (ISO 8601, with an offset or Z); read as a UTC instant.
WITH judged AS (
    SELECT
        r.arn,
        r.role_name,
        r.account_id,
        r.tags,
        r.create_date,
        COALESCE(r.path, '/') LIKE '/aws-service-role/%' ESCAPE '\' AS service_linked,
        CAST(NULLIF(r.role_last_used->>'$.LastUsedDate', '') AS TIMESTAMPTZ) AS last_used
    FROM aws_iam_roles AS r
)
SELECT
    arn AS resource_uid,
    role_name AS resource_name,
    account_id,
    '' AS region,
    tags,
    CASE WHEN service_linked THEN 'PASS'
         WHEN create_date >= current_timestamp - INTERVAL 90 DAY THEN 'PASS'
         WHEN last_used >= current_timestamp - INTERVAL 90 DAY THEN 'PASS'
         ELSE 'FAIL' END AS status,
    CASE WHEN service_linked THEN 'Service-linked role, managed by its AWS service.'
         WHEN create_date >= current_timestamp - INTERVAL 90 DAY
             THEN 'The role was created in the last 90 days.'
         WHEN last_used >= current_timestamp - INTERVAL 90 DAY
             THEN 'The role was used in the last 90 days.'
         WHEN last_used IS NOT NULL
             THEN 'The role was last used ' || CAST(date_diff('day', last_used, current_timestamp) AS VARCHAR) || ' days ago.'
         ELSE 'The role has no recorded use (IAM tracks the last 400 days) and is older than 90 days.' END AS detail
FROM judged
