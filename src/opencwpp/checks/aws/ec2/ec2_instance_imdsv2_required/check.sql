WITH instances AS (
    SELECT
        i.*,
        lower(COALESCE(i.state->>'$.Name', '')) AS state_name,
        lower(COALESCE(i.metadata_options->>'$.HttpTokens', '')) AS http_tokens,
        lower(COALESCE(i.metadata_options->>'$.HttpEndpoint', 'enabled')) AS http_endpoint
    FROM aws_ec2_instances AS i
)
SELECT
    i.arn AS resource_uid,
    COALESCE(NULLIF(i.tags->>'$.Name', ''), i.instance_id) AS resource_name,
    i.account_id,
    i.region,
    i.tags,
    CASE WHEN i.http_endpoint = 'disabled' OR i.http_tokens = 'required' THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN i.http_endpoint = 'disabled' THEN 'The instance metadata endpoint is disabled.'
         WHEN i.http_tokens = 'required' THEN 'IMDSv2 session tokens are required; IMDSv1 requests are refused.'
         ELSE 'The metadata endpoint accepts IMDSv1 requests without a session token (HttpTokens '
              || COALESCE(NULLIF(i.http_tokens, ''), 'not reported') || ', instance ' || COALESCE(NULLIF(i.state_name, ''), 'in unknown state') || ').' END AS detail
FROM instances AS i
WHERE i.state_name NOT IN ('terminated', 'shutting-down')
