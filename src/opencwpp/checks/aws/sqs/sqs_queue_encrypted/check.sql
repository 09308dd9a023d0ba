SELECT
    q.arn AS resource_uid,
    split_part(q.arn, ':', 6) AS resource_name,
    q.account_id,
    q.region,
    q.tags,
    CASE WHEN trim(COALESCE(q.kms_master_key_id, '')) <> '' OR COALESCE(q.sqs_managed_sse_enabled, FALSE)
         THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN trim(COALESCE(q.kms_master_key_id, '')) <> '' THEN 'Messages are encrypted at rest with KMS key ' || q.kms_master_key_id || ' (SSE-KMS).'
         WHEN COALESCE(q.sqs_managed_sse_enabled, FALSE) THEN 'Messages are encrypted at rest with SQS-managed keys (SSE-SQS).'
         ELSE 'Neither SSE-SQS nor SSE-KMS is enabled: messages are stored unencrypted.' END AS detail
FROM aws_sqs_queues AS q
