-- One row per (account, region) whose analyzers were synced ok: regions never synced are not judged.
WITH scopes AS (
    SELECT DISTINCT account_id, region
    FROM cwpp_sync_scopes
    WHERE table_name = 'aws_accessanalyzer_analyzers' AND status = 'ok' AND region <> ''
),
org_of AS (
    SELECT DISTINCT request_account_id AS account_id, id AS org_id
    FROM aws_organizations
    WHERE id IS NOT NULL
),
active AS (
    SELECT account_id, region, name, upper(type) AS type
    FROM aws_accessanalyzer_analyzers
    WHERE upper(status) = 'ACTIVE' AND upper(type) IN ('ACCOUNT', 'ORGANIZATION')
),
own AS (
    SELECT account_id, region, string_agg(name || ' (' || lower(type) || ')', ', ' ORDER BY name) AS names
    FROM active
    GROUP BY account_id, region
),
via_org AS (
    -- Organization analyzers of other collected accounts of the same organization, same region.
    SELECT
        m.account_id,
        a.region,
        string_agg(a.name || ' in ' || a.account_id, ', ' ORDER BY a.account_id, a.name) AS names
    FROM active AS a
    JOIN org_of AS o ON o.account_id = a.account_id
    JOIN org_of AS m ON m.org_id = o.org_id AND m.account_id <> a.account_id
    WHERE a.type = 'ORGANIZATION'
    GROUP BY m.account_id, a.region
),
inactive AS (
    SELECT account_id, region,
           string_agg(name || ' (' || COALESCE(type, '?') || ', ' || COALESCE(status, '?') || ')', ', ' ORDER BY name) AS names
    FROM aws_accessanalyzer_analyzers
    WHERE NOT (upper(COALESCE(status, '')) = 'ACTIVE' AND upper(COALESCE(type, '')) IN ('ACCOUNT', 'ORGANIZATION'))
    GROUP BY account_id, region
)
SELECT
    'arn:' || CASE WHEN s.region LIKE 'cn-%' ESCAPE '\' THEN 'aws-cn'
                   WHEN s.region LIKE 'us-gov-%' ESCAPE '\' THEN 'aws-us-gov'
                   ELSE 'aws' END
        || ':access-analyzer:' || s.region || ':' || s.account_id || ':regional-config/external-access' AS resource_uid,
    'IAM Access Analyzer (' || s.region || ')' AS resource_name,
    s.account_id,
    s.region,
    CASE WHEN o.names IS NOT NULL OR v.names IS NOT NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN o.names IS NOT NULL
             THEN 'Active external access analyzer(s) in ' || s.region || ': ' || o.names || '.'
         WHEN v.names IS NOT NULL
             THEN 'Covered in ' || s.region || ' by the organization analyzer(s) ' || v.names || '.'
         WHEN i.names IS NOT NULL
             THEN 'No active external access analyzer in ' || s.region || '; present but not counted: ' || i.names || '.'
         ELSE 'No IAM Access Analyzer in ' || s.region || ', and no organization analyzer of its organization there among the collected accounts.' END AS detail
FROM scopes AS s
LEFT JOIN own AS o ON o.account_id = s.account_id AND o.region = s.region
LEFT JOIN via_org AS v ON v.account_id = s.account_id AND v.region = s.region
LEFT JOIN inactive AS i ON i.account_id = s.account_id AND i.region = s.region
