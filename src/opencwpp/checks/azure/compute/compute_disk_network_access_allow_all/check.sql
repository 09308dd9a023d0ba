-- networkAccessPolicy AllowAll (the default) lets anyone holding a SAS URL export the data from
-- any network; publicNetworkAccess Disabled closes the public endpoint whatever the policy.
SELECT
    d.id AS resource_uid,
    d.name AS resource_name,
    d.subscription_id AS account_id,
    d.location AS region,
    d.tags,
    CASE WHEN COALESCE(d.properties->>'$.networkAccessPolicy', 'AllowAll') = 'AllowAll'
              AND COALESCE(d.properties->>'$.publicNetworkAccess', 'Enabled') <> 'Disabled'
         THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN COALESCE(d.properties->>'$.publicNetworkAccess', 'Enabled') = 'Disabled'
             THEN 'Public network access is disabled: export works only through private endpoints.'
         WHEN COALESCE(d.properties->>'$.networkAccessPolicy', 'AllowAll') = 'AllowAll'
             THEN 'Network access policy AllowAll: a SAS URL to the disk can be generated and used from any network.'
         ELSE 'Network access policy ' || (d.properties->>'$.networkAccessPolicy') || ': no export from public networks.'
    END AS detail
FROM azure_compute_disks AS d
