WITH t AS (
    SELECT
        d.*,
        upper(COALESCE(d.sse_description->>'$.SSEType', '')) AS sse_type,
        upper(COALESCE(d.sse_description->>'$.Status', '')) AS sse_status,
        COALESCE(d.sse_description->>'$.KMSMasterKeyArn', '') AS key_arn
    FROM aws_dynamodb_tables AS d
)
SELECT
    t.arn AS resource_uid,
    t.table_name AS resource_name,
    t.account_id,
    t.region,
    t.tags,
    CASE WHEN t.sse_type = 'KMS' AND t.sse_status IN ('ENABLED', 'UPDATING') THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN t.sse_type = 'KMS' AND t.sse_status IN ('ENABLED', 'UPDATING')
             THEN 'Encrypted with KMS key ' || COALESCE(NULLIF(t.key_arn, ''), '(not reported)') || ' (an AWS managed aws/dynamodb key or a customer managed key).'
         WHEN t.sse_status = '' THEN 'Encrypted with the default AWS owned key (no KMS key you can audit or control).'
         ELSE 'KMS encryption is ' || t.sse_status || ': the table is (or will be) encrypted with the AWS owned key.' END AS detail
FROM t
