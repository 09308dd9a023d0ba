-- The chain judgement (trail -> log group -> metric filter -> alarm -> subscribed topic) and the
-- CIS 4.1 pattern terms live in the view cwpp_aws_cis_monitoring_alarms.
SELECT
    'arn:aws:iam::' || account_id || ':root' AS resource_uid,
    account_id AS resource_name,
    account_id,
    '' AS region,
    CASE WHEN passed THEN 'PASS' ELSE 'FAIL' END AS status,
    detail
FROM cwpp_aws_cis_monitoring_alarms
WHERE control_key = 'unauthorized_api_calls'
