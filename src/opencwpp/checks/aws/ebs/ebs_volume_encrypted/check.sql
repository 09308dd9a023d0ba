SELECT
    v.arn AS resource_uid,
    v.volume_id AS resource_name,
    v.account_id,
    v.region,
    v.tags,
    CASE WHEN v.encrypted THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN v.encrypted
             THEN 'The volume is encrypted with KMS key ' || COALESCE(NULLIF(v.kms_key_id, ''), '(not reported)') || '.'
         ELSE 'The volume is not encrypted at rest.' END AS detail
FROM aws_ec2_ebs_volumes AS v
