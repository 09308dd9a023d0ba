-- Each HTTPS/SSL listener row carries its SSL negotiation policy: the enabled protocols when the
-- policy lists them (comma-separated), else its reference security policy.
WITH judged AS (
    SELECT
        l.*,
        ',' || COALESCE(l.ssl_protocols, '') || ',' AS protocols,
        CASE WHEN l.ssl_protocols IS NOT NULL
                 THEN (',' || l.ssl_protocols || ',') LIKE '%,SSLv3,%' ESCAPE '\'
                      OR (',' || l.ssl_protocols || ',') LIKE '%,TLSv1,%' ESCAPE '\'
                      OR (',' || l.ssl_protocols || ',') LIKE '%,TLSv1.1,%' ESCAPE '\'
             WHEN l.reference_security_policy IS NOT NULL
                 THEN l.reference_security_policy NOT LIKE 'ELBSecurityPolicy-TLS-1-2-%' ESCAPE '\'
             ELSE TRUE END AS outdated
    FROM cwpp_aws_elbv1_listeners AS l
    WHERE upper(COALESCE(l.protocol, '')) IN ('HTTPS', 'SSL')
),
per_lb AS (
    SELECT
        load_balancer_arn,
        string_agg(
            CASE WHEN outdated THEN upper(protocol) || ':' || CAST(load_balancer_port AS VARCHAR) || ' ('
                      || COALESCE(reference_security_policy, ssl_policy_name, 'no SSL negotiation policy reported')
                      || CASE WHEN ssl_protocols IS NOT NULL THEN ', ' || ssl_protocols ELSE '' END || ')' END,
            ', ' ORDER BY load_balancer_port
        ) AS outdated_listeners,
        string_agg(COALESCE(reference_security_policy, ssl_policy_name, '?'), ', ' ORDER BY load_balancer_port) AS policies
    FROM judged
    GROUP BY load_balancer_arn
)
SELECT
    lb.arn AS resource_uid,
    lb.load_balancer_name AS resource_name,
    lb.account_id,
    lb.region,
    lb.tags,
    CASE WHEN p.outdated_listeners IS NOT NULL THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN p.outdated_listeners IS NOT NULL
             THEN 'Listener(s) allowing SSL 3.0, TLS 1.0 or TLS 1.1: ' || p.outdated_listeners || '.'
         ELSE 'Every HTTPS/SSL listener allows TLS 1.2 only (' || p.policies || ').' END AS detail
FROM aws_elbv1_load_balancers AS lb
JOIN per_lb AS p ON p.load_balancer_arn = lb.arn
