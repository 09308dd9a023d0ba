SELECT
    k.arn AS resource_uid,
    k.key_id AS resource_name,
    k.account_id,
    k.region,
    k.tags,
    CASE WHEN k.rotation_enabled THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN k.rotation_enabled THEN 'Automatic rotation of the key material is enabled.'
         WHEN k.rotation_enabled IS NULL THEN 'The rotation status of this symmetric customer managed key could not be read, so rotation cannot be shown to be on.'
         ELSE 'Automatic rotation is off for this symmetric customer managed key.' END AS detail
FROM aws_kms_keys AS k
WHERE k.key_manager = 'CUSTOMER'
  AND COALESCE(k.key_spec, k.customer_master_key_spec) = 'SYMMETRIC_DEFAULT'
  AND COALESCE(k.key_usage, 'ENCRYPT_DECRYPT') = 'ENCRYPT_DECRYPT'
  AND COALESCE(k.origin, 'AWS_KMS') = 'AWS_KMS'
  AND k.key_state = 'Enabled'
