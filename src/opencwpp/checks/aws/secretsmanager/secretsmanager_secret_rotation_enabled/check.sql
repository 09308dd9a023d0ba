-- Secrets a service manages (owning_service: RDS, Redshift …) rotate on that service's terms.
SELECT
    s.arn AS resource_uid,
    s.name AS resource_name,
    s.account_id,
    s.region,
    s.tags,
    CASE WHEN COALESCE(s.rotation_enabled, FALSE) THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN NOT COALESCE(s.rotation_enabled, FALSE)
             THEN 'Automatic rotation is off: the secret stays valid until someone changes it by hand.'
         ELSE 'Automatic rotation is on'
              || COALESCE(' (every ' || CAST(s.rotation_rules->>'$.AutomaticallyAfterDays' AS VARCHAR) || ' days)', '')
              || COALESCE('; last rotated ' || CAST(CAST(s.last_rotated_date AS DATE) AS VARCHAR), '; never rotated yet')
              || '.'
    END AS detail
FROM aws_secretsmanager_secrets AS s
WHERE s.deleted_date IS NULL
  AND COALESCE(s.owning_service, '') = ''
