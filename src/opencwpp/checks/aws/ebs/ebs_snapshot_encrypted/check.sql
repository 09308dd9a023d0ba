SELECT
    s.arn AS resource_uid,
    s.snapshot_id AS resource_name,
    s.account_id,
    s.region,
    s.tags,
    CASE WHEN s.encrypted THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN s.encrypted
             THEN 'The snapshot is encrypted with KMS key ' || COALESCE(NULLIF(s.kms_key_id, ''), '(not reported)') || '.'
         ELSE 'The snapshot (of volume ' || COALESCE(NULLIF(s.volume_id, ''), 'unknown') || ') is not encrypted at rest.' END AS detail
FROM aws_ec2_ebs_snapshots AS s
