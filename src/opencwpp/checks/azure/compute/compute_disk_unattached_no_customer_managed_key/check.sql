SELECT
    d.id AS resource_uid,
    d.name AS resource_name,
    d.subscription_id AS account_id,
    d.location AS region,
    d.tags,
    CASE WHEN COALESCE(d.properties->>'$.encryption.type', 'EncryptionAtRestWithPlatformKey') = 'EncryptionAtRestWithPlatformKey' THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN COALESCE(d.properties->>'$.encryption.type', 'EncryptionAtRestWithPlatformKey')
              = 'EncryptionAtRestWithPlatformKey'
             THEN 'Encrypted with a platform-managed key only (the unattached disk uses no customer-managed key).'
         ELSE 'Encrypted with a customer-managed key (' || (d.properties->>'$.encryption.type')
             || ', disk encryption set ' || COALESCE(d.properties->>'$.encryption.diskEncryptionSetId', 'unknown') || ').'
    END AS detail
FROM azure_compute_disks AS d
WHERE d.properties->>'$.diskState' = 'Unattached'
