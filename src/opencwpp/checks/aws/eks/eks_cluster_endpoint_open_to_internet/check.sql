WITH cidrs AS (
    SELECT
        cluster_arn,
        MAX(CASE WHEN cidr IN ('0.0.0.0/0', '::/0') THEN 1 ELSE 0 END) AS anywhere,
        string_agg(DISTINCT cidr, ', ' ORDER BY cidr) AS allowed
    FROM cwpp_aws_eks_cluster_public_access_cidrs
    GROUP BY cluster_arn
),
clusters AS (
    SELECT c.*, lower(COALESCE(c.resources_vpc_config->>'$.EndpointPublicAccess', 'false')) = 'true' AS public
    FROM aws_eks_clusters AS c
)
SELECT
    c.arn AS resource_uid,
    c.name AS resource_name,
    c.account_id,
    c.region,
    c.tags,
    CASE WHEN c.public AND (x.cluster_arn IS NULL OR x.anywhere = 1) THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN c.public AND x.cluster_arn IS NULL
             THEN 'The public API endpoint is enabled with no CIDR restriction (EKS applies 0.0.0.0/0).'
         WHEN c.public AND x.anywhere = 1
             THEN 'The public API endpoint admits the whole internet (' || x.allowed || ').'
         WHEN c.public
             THEN 'The public API endpoint is enabled but limited to ' || x.allowed || '.'
         ELSE 'The API endpoint is private only.'
    END AS detail
FROM clusters AS c
LEFT JOIN cidrs AS x ON x.cluster_arn = c.arn
