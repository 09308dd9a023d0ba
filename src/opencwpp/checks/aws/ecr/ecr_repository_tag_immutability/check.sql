SELECT
    r.arn AS resource_uid,
    r.repository_name AS resource_name,
    r.account_id,
    r.region,
    r.tags,
    CASE WHEN upper(COALESCE(r.image_tag_mutability, '')) IN ('IMMUTABLE', 'IMMUTABLE_WITH_EXCLUSION') THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN upper(COALESCE(r.image_tag_mutability, '')) IN ('IMMUTABLE', 'IMMUTABLE_WITH_EXCLUSION')
             THEN 'Image tags are immutable (' || r.image_tag_mutability || ').'
         ELSE 'Image tags can be overwritten (' || COALESCE(NULLIF(r.image_tag_mutability, ''), 'not reported') || ').' END AS detail
FROM aws_ecr_repositories AS r
