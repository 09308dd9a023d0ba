SELECT
    a.id AS resource_uid,
    a.name AS resource_name,
    a.subscription_id AS account_id,
    a.location AS region,
    a.tags,
    CASE WHEN upper(COALESCE(a.properties->>'$.minimumTlsVersion', 'TLS1_0')) IN ('TLS1_2', 'TLS1_3')
         THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN a.properties->>'$.minimumTlsVersion' IS NULL
             THEN 'The minimum TLS version is not set, so TLS 1.0 is accepted.'
         ELSE 'The minimum TLS version is ' || (a.properties->>'$.minimumTlsVersion') || '.'
    END AS detail
FROM azure_storage_accounts AS a
