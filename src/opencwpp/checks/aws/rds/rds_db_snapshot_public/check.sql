-- The restore attribute is a JSON list of {AttributeName, AttributeValues}: the check matches
-- "all" among the AttributeValues in its text instead of walking the list ("restore" is the only
-- attribute a manual snapshot has; account ids are digits, never "all").
SELECT
    arn AS resource_uid,
    db_snapshot_identifier AS resource_name,
    account_id,
    region,
    tags,
    CASE WHEN regexp_matches(CAST(attributes AS VARCHAR), '"AttributeValues"\s*:\s*\[[^\]]*"all"')
         THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN regexp_matches(CAST(attributes AS VARCHAR), '"AttributeValues"\s*:\s*\[[^\]]*"all"')
             THEN 'The snapshot''s restore attribute includes "all": any AWS account can copy or restore it.'
         WHEN regexp_matches(CAST(attributes AS VARCHAR), '"AttributeValues"\s*:\s*\[\s*"')
             THEN 'The snapshot is not public; it is shared with specific AWS account(s).'
         ELSE 'The snapshot is not public and not shared with other accounts.'
    END AS detail
FROM aws_rds_db_snapshots
WHERE attributes IS NOT NULL
