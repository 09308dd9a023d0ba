SELECT
    t.arn AS resource_uid,
    split_part(t.arn, ':', 6) AS resource_name,
    t.account_id,
    t.region,
    t.tags,
    CASE WHEN trim(COALESCE(t.kms_master_key_id, '')) <> '' THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN trim(COALESCE(t.kms_master_key_id, '')) <> ''
             THEN 'Messages are encrypted at rest with KMS key ' || t.kms_master_key_id || '.'
         ELSE 'The topic has no KMS key (KmsMasterKeyId), so messages are not encrypted at rest by SNS.' END AS detail
FROM aws_sns_topics AS t
