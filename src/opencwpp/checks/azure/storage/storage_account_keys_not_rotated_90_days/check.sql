WITH judged AS (
    SELECT
        a.*,
        CAST(a.properties->>'$.allowSharedKeyAccess' AS BOOLEAN) IS DISTINCT FROM FALSE AS shared_key,
        TRY_CAST(a.properties->>'$.keyCreationTime.key1' AS TIMESTAMPTZ) AS key1_created,
        TRY_CAST(a.properties->>'$.keyCreationTime.key2' AS TIMESTAMPTZ) AS key2_created
    FROM azure_storage_accounts AS a
),
aged AS (
    SELECT
        j.*,
        j.key1_created IS NULL OR j.key1_created < current_timestamp - INTERVAL 90 DAY AS key1_old,
        j.key2_created IS NULL OR j.key2_created < current_timestamp - INTERVAL 90 DAY AS key2_old
    FROM judged AS j
)
SELECT
    g.id AS resource_uid,
    g.name AS resource_name,
    g.subscription_id AS account_id,
    g.location AS region,
    g.tags,
    CASE WHEN g.shared_key AND (g.key1_old OR g.key2_old) THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN NOT g.shared_key
             THEN 'Shared-key access is disabled: the account keys authorize nothing.'
         WHEN g.key1_old OR g.key2_old
             THEN 'Not regenerated in 90 days: '
                  || CASE WHEN g.key1_old THEN 'key1 (' || COALESCE(strftime(g.key1_created AT TIME ZONE 'UTC', '%Y-%m-%d'), 'creation not recorded') || ')' ELSE '' END
                  || CASE WHEN g.key1_old AND g.key2_old THEN ', ' ELSE '' END
                  || CASE WHEN g.key2_old THEN 'key2 (' || COALESCE(strftime(g.key2_created AT TIME ZONE 'UTC', '%Y-%m-%d'), 'creation not recorded') || ')' ELSE '' END
                  || '.'
         ELSE 'Both keys were regenerated in the last 90 days.'
    END AS detail
FROM aged AS g
