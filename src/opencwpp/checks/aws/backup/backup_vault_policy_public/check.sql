-- Public statements come from the shared view (checks/views/), which knows the principals
-- that mean everyone and the conditions that restrict the caller.
SELECT
    v.arn AS resource_uid,
    v.backup_vault_name AS resource_name,
    v.account_id,
    v.region,
    v.tags,
    CASE WHEN p.labels IS NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN p.labels IS NULL
             THEN 'The vault access policy has no Allow statement for everyone without a restricting condition.'
         ELSE 'Vault access policy statement(s) ' || p.labels || ' allow everyone (a wildcard principal or NotPrincipal) without a condition that restricts the caller.'
    END AS detail
FROM aws_backup_vaults AS v
LEFT JOIN cwpp_aws_public_policy_statements AS p
    ON p.source_table = 'aws_backup_vaults' AND p.source_arn = v.arn
