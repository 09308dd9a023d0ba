SELECT
    r.arn AS resource_uid,
    r.repository_name AS resource_name,
    r.account_id,
    r.region,
    r.tags,
    CASE WHEN lower(COALESCE(r.image_scanning_configuration->>'$.ScanOnPush', '')) = 'true' THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN lower(COALESCE(r.image_scanning_configuration->>'$.ScanOnPush', '')) = 'true' THEN 'Images are scanned for vulnerabilities when pushed.'
         ELSE 'Scan on push is off for the repository (registry-level scanning rules were not collected and are not considered).' END AS detail
FROM aws_ecr_repositories AS r
