SELECT
    v.arn AS resource_uid,
    v.backup_vault_name AS resource_name,
    v.account_id,
    v.region,
    v.tags,
    CASE WHEN k.key_manager = 'AWS' THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN k.key_manager = 'AWS'
             THEN 'Recovery points are encrypted with an AWS managed key (' || v.encryption_key_arn || '), whose policy cannot be restricted.'
         WHEN k.arn IS NOT NULL
             THEN 'Recovery points are encrypted with customer managed key ' || v.encryption_key_arn || '.'
         ELSE 'Recovery points are encrypted with key ' || v.encryption_key_arn || ' of another account (customer managed).'
    END AS detail
FROM aws_backup_vaults AS v
LEFT JOIN aws_kms_keys AS k ON k.arn = v.encryption_key_arn
WHERE v.encryption_key_arn IS NOT NULL
  AND (k.arn IS NOT NULL OR split_part(v.encryption_key_arn, ':', 5) <> v.account_id)
