-- The table has no subscription column (as in CloudQuery): the ARM id carries it.
SELECT
    i.id AS resource_uid,
    split_part(i.id, '/', 9) || '/' || i.name AS resource_name,
    split_part(i.id, '/', 3) AS account_id,
    i.location AS region,
    i.tags,
    CASE WHEN CAST(i.properties->>'$.attributes.enabled' AS BOOLEAN) IS DISTINCT FROM FALSE
              AND i.properties->>'$.attributes.exp' IS NULL
         THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN CAST(i.properties->>'$.attributes.enabled' AS BOOLEAN) IS NOT DISTINCT FROM FALSE
             THEN 'The key is disabled.'
         WHEN i.properties->>'$.attributes.exp' IS NULL
             THEN 'The key is enabled and never expires.'
         ELSE 'The key expires at ' || strftime(to_timestamp(CAST(i.properties->>'$.attributes.exp' AS BIGINT)) AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M UTC') || '.'
    END AS detail
FROM azure_keyvault_keyvault_keys AS i
