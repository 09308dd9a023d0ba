-- Certificates still valid; expired ones are judged by acm_certificate_expired_in_use.
SELECT
    c.arn AS resource_uid,
    COALESCE(c.domain_name, c.arn) AS resource_name,
    c.account_id,
    c.region,
    c.tags,
    CASE WHEN c.not_after < current_timestamp + INTERVAL 30 DAY THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN c.not_after < current_timestamp + INTERVAL 30 DAY
             THEN 'The ' || lower(COALESCE(c.type, 'unknown-type')) || ' certificate expires in '
                  || CAST(date_diff('day', current_timestamp, c.not_after) AS VARCHAR) || ' day(s)'
                  || CASE WHEN upper(COALESCE(c.type, '')) = 'IMPORTED' THEN ' and ACM does not renew imported certificates.'
                          WHEN upper(COALESCE(c.renewal_eligibility, '')) = 'ELIGIBLE'
                              THEN '; managed renewal has not succeeded (status ' || COALESCE(c.renewal_summary->>'$.RenewalStatus', 'not reported') || ').'
                          ELSE ' and is not eligible for managed renewal.' END
         ELSE 'The certificate is valid for more than 30 days.' END AS detail
FROM aws_acm_certificates AS c
WHERE upper(COALESCE(c.status, '')) = 'ISSUED'
  AND c.not_after IS NOT NULL
  AND c.not_after >= current_timestamp
