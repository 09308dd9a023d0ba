WITH clusters AS (
    SELECT c.*, lower(COALESCE(c.resources_vpc_config->>'$.EndpointPublicAccess', 'false')) = 'true' AS public
    FROM aws_eks_clusters AS c
)
SELECT
    arn AS resource_uid,
    name AS resource_name,
    account_id,
    region,
    tags,
    CASE WHEN public THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN public THEN 'The cluster''s Kubernetes API endpoint is publicly accessible.'
         ELSE 'The cluster''s Kubernetes API endpoint is private only.'
    END AS detail
FROM clusters
