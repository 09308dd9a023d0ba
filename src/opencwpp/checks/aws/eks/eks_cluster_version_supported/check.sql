WITH versions AS (
    SELECT
        e.cycle AS version,
        CASE WHEN (e.eol) LIKE '____-__-__' ESCAPE '\' THEN CAST(e.eol AS DATE) END AS standard_end,
        CASE WHEN (e.release->>'$.eoes') LIKE '____-__-__' ESCAPE '\' THEN CAST(e.release->>'$.eoes' AS DATE) END AS extended_end
    FROM cwpp_eol AS e
    WHERE e.product = 'amazon-eks'
),
judged AS (
    SELECT c.*, v.standard_end, v.extended_end
    FROM aws_eks_clusters AS c
    JOIN versions AS v ON v.version = c.version
    WHERE v.standard_end IS NOT NULL
)
SELECT
    j.arn AS resource_uid,
    j.name AS resource_name,
    j.account_id,
    j.region,
    j.tags,
    CASE WHEN j.standard_end <= current_date THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN j.extended_end IS NOT NULL AND j.extended_end <= current_date
             THEN 'Kubernetes ' || j.version || ' is past the end of extended support (' || CAST(j.extended_end AS VARCHAR) || '): unsupported.'
         WHEN j.standard_end <= current_date
             THEN 'Kubernetes ' || j.version || ' left standard support on ' || CAST(j.standard_end AS VARCHAR)
                  || ' and runs in paid extended support' || COALESCE(' until ' || CAST(j.extended_end AS VARCHAR), '') || '.'
         ELSE 'Kubernetes ' || j.version || ' is in standard support until ' || CAST(j.standard_end AS VARCHAR) || '.'
    END AS detail
FROM judged AS j
