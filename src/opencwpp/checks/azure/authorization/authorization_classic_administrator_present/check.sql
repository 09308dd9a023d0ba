-- properties.role lists the classic roles separated by ';' (e.g.
-- 'ServiceAdministrator;AccountAdministrator', 'CoAdministrator').
SELECT
    c.id AS resource_uid,
    COALESCE(c.properties->>'$.emailAddress', c.name) AS resource_name,
    c.subscription_id AS account_id,
    CAST(NULL AS VARCHAR) AS region,
    CASE WHEN lower(COALESCE(c.properties->>'$.role', '')) LIKE '%serviceadministrator%' ESCAPE '\'
              OR lower(COALESCE(c.properties->>'$.role', '')) LIKE '%coadministrator%' ESCAPE '\'
         THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN lower(COALESCE(c.properties->>'$.role', '')) LIKE '%serviceadministrator%' ESCAPE '\'
              OR lower(COALESCE(c.properties->>'$.role', '')) LIKE '%coadministrator%' ESCAPE '\'
             THEN 'Classic role ' || COALESCE(c.properties->>'$.role', '') || ': Owner-equivalent access outside Azure RBAC.'
         ELSE 'Classic role ' || COALESCE(c.properties->>'$.role', 'unknown') || ': billing only, no access to resources.'
    END AS detail
FROM azure_authorization_classic_administrators AS c
