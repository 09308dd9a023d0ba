WITH judged AS (
    SELECT
        i.*,
        lower(trim(COALESCE(i.tags->>'$.Environment', ''))) IN ('prod', 'production')
            OR lower(trim(COALESCE(i.tags->>'$.environment', ''))) IN ('prod', 'production')
            OR lower(trim(COALESCE(i.tags->>'$.ENVIRONMENT', ''))) IN ('prod', 'production')
            OR lower(trim(COALESCE(i.tags->>'$.Env', ''))) IN ('prod', 'production')
            OR lower(trim(COALESCE(i.tags->>'$.env', ''))) IN ('prod', 'production')
            OR lower(trim(COALESCE(i.tags->>'$.ENV', ''))) IN ('prod', 'production') AS production
    FROM aws_rds_instances AS i
    WHERE COALESCE(i.db_cluster_identifier, '') = ''
)
SELECT
    j.arn AS resource_uid,
    j.db_instance_identifier AS resource_name,
    j.account_id,
    j.region,
    j.tags,
    CASE WHEN j.production AND NOT COALESCE(j.multi_az, FALSE) THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN NOT j.production THEN 'Not tagged as production (Environment/env = prod or production), so Multi-AZ is not required by this rule.'
         WHEN COALESCE(j.multi_az, FALSE) THEN 'Production instance with a Multi-AZ standby.'
         ELSE 'Production-tagged instance running in a single Availability Zone ('
              || COALESCE(NULLIF(j.availability_zone, ''), 'unknown zone') || ').' END AS detail
FROM judged AS j
