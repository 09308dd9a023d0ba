WITH captured AS (
    SELECT
        c.subscription_id,
        max(CASE WHEN c.enabled AND (lower(c.category) = 'administrative' OR lower(c.category_group) = 'alllogs') THEN 1 ELSE 0 END) AS administrative,
        max(CASE WHEN c.enabled AND (lower(c.category) = 'security' OR lower(c.category_group) = 'alllogs') THEN 1 ELSE 0 END) AS security,
        max(CASE WHEN c.enabled AND (lower(c.category) = 'policy' OR lower(c.category_group) = 'alllogs') THEN 1 ELSE 0 END) AS policy,
        max(CASE WHEN c.enabled AND (lower(c.category) = 'alert' OR lower(c.category_group) = 'alllogs') THEN 1 ELSE 0 END) AS alert
    FROM cwpp_azure_monitor_diagnostic_log_categories AS c
    GROUP BY c.subscription_id
)
SELECT
    s.id AS resource_uid,
    s.display_name AS resource_name,
    s.subscription_id AS account_id,
    CAST(NULL AS VARCHAR) AS region,
    s.tags,
    CASE WHEN c.subscription_id IS NOT NULL
              AND c.administrative + c.security + c.policy + c.alert = 4
         THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN c.subscription_id IS NULL THEN 'No diagnostic setting exports any Activity Log category.'
         WHEN c.administrative + c.security + c.policy + c.alert = 4
             THEN 'Administrative, Security, Policy and Alert events are exported.'
         ELSE 'Not exported: ' || concat_ws(', ',
            CASE WHEN c.administrative = 0 THEN 'Administrative' END,
            CASE WHEN c.security = 0 THEN 'Security' END,
            CASE WHEN c.policy = 0 THEN 'Policy' END,
            CASE WHEN c.alert = 0 THEN 'Alert' END) || '.'
    END AS detail
FROM azure_subscription_subscriptions AS s
LEFT JOIN captured AS c ON c.subscription_id = s.subscription_id
