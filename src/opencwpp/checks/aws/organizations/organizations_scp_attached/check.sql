-- Organizations whose policies some collected account could read (management or delegated admin).
WITH readers AS (
    SELECT DISTINCT account_id
    FROM cwpp_sync_scopes
    WHERE table_name = 'aws_organizations_policies' AND status = 'ok'
),
orgs AS (
    SELECT o.arn, min(o.id) AS org_id, min(o.master_account_id) AS management, min(o.feature_set) AS feature_set
    FROM aws_organizations AS o
    JOIN readers AS r ON r.account_id = o.request_account_id
    GROUP BY o.arn
),
org_scps AS (
    -- The organization's own SCPs as seen by its readers, with their attachment count.
    SELECT
        o.arn AS org_arn,
        p.name,
        count(DISTINCT t.target_id) AS targets
    FROM aws_organizations AS o
    JOIN readers AS r ON r.account_id = o.request_account_id
    JOIN aws_organizations_policies AS p ON p.account_id = o.request_account_id
    LEFT JOIN cwpp_aws_organizations_policy_targets AS t ON t.policy_arn = p.arn AND t.account_id = p.account_id
    WHERE p.type = 'SERVICE_CONTROL_POLICY'
      AND NOT COALESCE(p.aws_managed, FALSE)
      AND COALESCE(p.id, '') <> 'p-FullAWSAccess'
    GROUP BY o.arn, p.name
),
summary AS (
    SELECT
        org_arn,
        string_agg(name, ', ' ORDER BY name) FILTER (WHERE targets > 0) AS attached,
        string_agg(name, ', ' ORDER BY name) FILTER (WHERE targets = 0) AS detached
    FROM org_scps
    GROUP BY org_arn
)
SELECT
    o.arn AS resource_uid,
    o.org_id AS resource_name,
    COALESCE(o.management, split_part(o.arn, ':', 5)) AS account_id,
    '' AS region,
    CASE WHEN s.attached IS NOT NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN s.attached IS NOT NULL
             THEN 'Service control policies attached: ' || s.attached || '.'
         WHEN upper(COALESCE(o.feature_set, '')) = 'CONSOLIDATED_BILLING'
             THEN 'The organization has consolidated billing only: service control policies are unavailable.'
         WHEN s.detached IS NOT NULL
             THEN 'The organization''s service control policies are attached nowhere: ' || s.detached || '.'
         ELSE 'No service control policy other than the AWS managed FullAWSAccess is attached.' END AS detail
FROM orgs AS o
LEFT JOIN summary AS s ON s.org_arn = o.arn
