-- sasExpirationPeriod is a .NET TimeSpan: 'd.hh:mm:ss' (or 'hh:mm:ss' under a day).
WITH policy AS (
    SELECT
        a.*,
        CAST(a.properties->>'$.allowSharedKeyAccess' AS BOOLEAN) IS DISTINCT FROM FALSE AS shared_key,
        a.properties->>'$.sasPolicy.sasExpirationPeriod' AS period,
        COALESCE(a.properties->>'$.sasPolicy.expirationAction', 'Log') AS expiration_action
    FROM azure_storage_accounts AS a
),
judged AS (
    SELECT
        p.*,
        CASE WHEN p.period IS NULL THEN NULL
             WHEN regexp_matches(p.period, '^[0-9]+[.]') THEN CAST(split_part(p.period, '.', 1) AS INTEGER)
             ELSE 0 END AS days,
        CASE WHEN regexp_matches(COALESCE(p.period, ''), '^[0-9]+[.]') THEN split_part(p.period, '.', 2)
             ELSE p.period END AS clock
    FROM policy AS p
)
SELECT
    j.id AS resource_uid,
    j.name AS resource_name,
    j.subscription_id AS account_id,
    j.location AS region,
    j.tags,
    CASE WHEN j.shared_key AND (j.period IS NULL OR j.days > 7 OR (j.days = 7 AND j.clock <> '00:00:00'))
         THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN NOT j.shared_key
             THEN 'Shared-key access is disabled: SAS tokens signed with the account keys do not work.'
         WHEN j.period IS NULL
             THEN 'No SAS expiration policy: SAS tokens signed with the account keys may live for years.'
         WHEN j.days > 7 OR (j.days = 7 AND j.clock <> '00:00:00')
             THEN 'The SAS expiration policy allows ' || j.period || ' (more than 7 days).'
         ELSE 'SAS tokens are limited to ' || j.period || ' (action: ' || j.expiration_action || ').'
    END AS detail
FROM judged AS j
