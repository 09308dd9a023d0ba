SELECT
    db.id AS resource_uid,
    db.name AS resource_name,
    db.subscription_id AS account_id,
    db.location AS region,
    db.tags,
    CASE WHEN COALESCE(t.properties->>'$.state', t.properties->>'$.status') = 'Enabled'
         THEN 'PASS' ELSE 'FAIL' END AS status,
    'Transparent data encryption is '
        || COALESCE(t.properties->>'$.state', t.properties->>'$.status', 'not reported')
        || CASE WHEN COALESCE(t.properties->>'$.state', t.properties->>'$.status') = 'Enabled'
                THEN '.' ELSE ': data files, logs and backups are not encrypted at rest.' END AS detail
FROM azure_sql_server_databases AS db
JOIN azure_sql_transparent_data_encryptions AS t
  ON substr(lower(t.id), 1, length(db.id) + 1) = lower(db.id) || '/'
WHERE lower(db.name) <> 'master'
