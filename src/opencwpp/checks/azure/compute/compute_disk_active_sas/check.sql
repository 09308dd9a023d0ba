SELECT
    d.id AS resource_uid,
    d.name AS resource_name,
    d.subscription_id AS account_id,
    d.location AS region,
    d.tags,
    CASE WHEN d.properties->>'$.diskState' IN ('ActiveSAS', 'ActiveSASFrozen')
         THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN d.properties->>'$.diskState' IN ('ActiveSAS', 'ActiveSASFrozen')
             THEN 'A SAS export URL is active (disk state ' || (d.properties->>'$.diskState') || ').'
         ELSE 'No active SAS export (disk state ' || COALESCE(d.properties->>'$.diskState', 'unknown') || ').'
    END AS detail
FROM azure_compute_disks AS d
