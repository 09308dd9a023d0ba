-- Judges each launch template by its default version (the versions table keeps the template ARN).
WITH defaults AS (
    SELECT
        v.arn,
        v.version_number,
        lower(COALESCE(v.launch_template_data->>'$.MetadataOptions.HttpTokens', '')) AS http_tokens,
        lower(COALESCE(v.launch_template_data->>'$.MetadataOptions.HttpEndpoint', 'enabled')) AS http_endpoint
    FROM aws_ec2_launch_template_versions AS v
    WHERE v.default_version
)
SELECT
    t.arn AS resource_uid,
    COALESCE(NULLIF(t.launch_template_name, ''), t.launch_template_id) AS resource_name,
    t.account_id,
    t.region,
    t.tags,
    CASE WHEN d.http_endpoint = 'disabled' OR d.http_tokens = 'required' THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN d.http_endpoint = 'disabled'
             THEN 'Default version ' || CAST(d.version_number AS VARCHAR) || ' disables the instance metadata endpoint.'
         WHEN d.http_tokens = 'required'
             THEN 'Default version ' || CAST(d.version_number AS VARCHAR) || ' requires IMDSv2 session tokens.'
         ELSE 'Default version ' || CAST(d.version_number AS VARCHAR) || ' lets instances answer IMDSv1 requests (HttpTokens '
              || COALESCE(NULLIF(d.http_tokens, ''), 'not set: the AMI or account default decides') || ').'
    END AS detail
FROM aws_ec2_launch_templates AS t
JOIN defaults AS d ON d.arn = t.arn
