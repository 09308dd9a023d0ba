WITH judged AS (
    SELECT
        a.*,
        CAST(a.properties->>'$.allowSharedKeyAccess' AS BOOLEAN) IS DISTINCT FROM FALSE AS shared_key,
        CAST(a.properties->>'$.keyPolicy.keyExpirationPeriodInDays' AS INTEGER) AS reminder_days
    FROM azure_storage_accounts AS a
)
SELECT
    j.id AS resource_uid,
    j.name AS resource_name,
    j.subscription_id AS account_id,
    j.location AS region,
    j.tags,
    CASE WHEN j.shared_key AND (j.reminder_days IS NULL OR j.reminder_days > 90)
         THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN NOT j.shared_key
             THEN 'Shared-key access is disabled: the account keys authorize nothing.'
         WHEN j.reminder_days IS NULL
             THEN 'No key expiration policy: nothing reminds anyone to rotate the account keys.'
         ELSE 'Keys are due for rotation every ' || CAST(j.reminder_days AS VARCHAR) || ' days'
              || CASE WHEN j.reminder_days > 90 THEN ' (more than 90).' ELSE '.' END
    END AS detail
FROM judged AS j
