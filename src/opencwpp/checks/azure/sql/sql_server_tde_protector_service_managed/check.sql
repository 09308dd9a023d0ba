SELECT
    s.id AS resource_uid,
    s.name AS resource_name,
    s.subscription_id AS account_id,
    s.location AS region,
    s.tags,
    CASE WHEN p.properties->>'$.serverKeyType' = 'AzureKeyVault' THEN 'PASS' ELSE 'FAIL' END AS status,
    'TDE protector key type: ' || COALESCE(p.properties->>'$.serverKeyType', 'unknown')
        || CASE WHEN p.properties->>'$.serverKeyType' = 'AzureKeyVault' THEN '.'
                ELSE ' (the key is managed by Microsoft, not by you).' END AS detail
FROM azure_sql_servers AS s
JOIN azure_sql_server_encryption_protectors AS p
  ON substr(lower(p.id), 1, length(s.id) + 21) = lower(s.id) || '/encryptionprotector/'
