WITH listeners AS (
    SELECT
        l.*,
        COALESCE(l.ssl_policy, '') AS policy,
        COALESCE(l.ssl_policy, '') IN (
            -- TLS 1.0 and later (AWS's ALB/NLB security policy tables).
            'ELBSecurityPolicy-2016-08',
            'ELBSecurityPolicy-2015-05',
            'ELBSecurityPolicy-TLS-1-0-2015-04',
            'ELBSecurityPolicy-FS-2018-06',
            -- TLS 1.1 and later.
            'ELBSecurityPolicy-TLS-1-1-2017-01',
            'ELBSecurityPolicy-FS-1-1-2019-08'
        )
        OR COALESCE(l.ssl_policy, '') LIKE 'ELBSecurityPolicy-TLS13-1-0-%' ESCAPE '\'
        OR COALESCE(l.ssl_policy, '') LIKE 'ELBSecurityPolicy-TLS13-1-1-%' ESCAPE '\' AS outdated
    FROM aws_elbv2_listeners AS l
    WHERE upper(l.protocol) IN ('HTTPS', 'TLS')
)
SELECT
    l.arn AS resource_uid,
    split_part(l.arn, '/', 3) || ':' || COALESCE(CAST(l.port AS VARCHAR), '?') AS resource_name,
    l.account_id,
    l.region,
    l.tags,
    CASE WHEN l.policy = '' OR l.outdated THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN l.policy = '' THEN 'No security policy was reported for this ' || l.protocol || ' listener.'
         WHEN l.outdated THEN 'Security policy ' || l.policy || ' allows TLS 1.0 or TLS 1.1.'
         ELSE 'Security policy ' || l.policy || ' does not allow TLS versions below 1.2.' END AS detail
FROM listeners AS l
