SELECT
    c.arn AS resource_uid,
    COALESCE(c.domain_name, c.arn) AS resource_name,
    c.account_id,
    c.region,
    c.tags,
    CASE WHEN COALESCE(array_length(c.in_use_by), 0) > 0 THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN COALESCE(array_length(c.in_use_by), 0) > 0
             THEN 'The certificate expired ' || CAST(date_diff('day', c.not_after, current_timestamp) AS VARCHAR)
                  || ' day(s) ago and is still used by: ' || array_to_string(c.in_use_by, ', ') || '.'
         ELSE 'The certificate expired ' || CAST(date_diff('day', c.not_after, current_timestamp) AS VARCHAR)
              || ' day(s) ago but nothing uses it (delete it to keep the inventory clean).' END AS detail
FROM aws_acm_certificates AS c
WHERE upper(COALESCE(c.status, '')) = 'EXPIRED'
   OR (c.not_after IS NOT NULL AND c.not_after < current_timestamp
       AND upper(COALESCE(c.status, '')) NOT IN ('REVOKED', 'FAILED', 'VALIDATION_TIMED_OUT'))
