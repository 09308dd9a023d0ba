WITH runtimes AS (
    SELECT
        e.cycle AS runtime,
        COALESCE(e.release->>'$.releaseLabel', e.cycle) AS label,
        CASE WHEN (e.release->>'$.eoas') LIKE '____-__-__' ESCAPE '\' THEN CAST(e.release->>'$.eoas' AS DATE)
             WHEN (e.eol) LIKE '____-__-__' ESCAPE '\' THEN CAST(e.eol AS DATE) END AS deprecation,
        lower(COALESCE(e.eol, '')) = 'true' AS flagged_eol
    FROM cwpp_eol AS e
    WHERE e.product = 'aws-lambda'
),
judged AS (
    SELECT f.*, r.label, r.deprecation, r.flagged_eol, f.configuration->>'$.Runtime' AS runtime
    FROM aws_lambda_functions AS f
    JOIN runtimes AS r ON r.runtime = f.configuration->>'$.Runtime'
)
SELECT
    j.arn AS resource_uid,
    j.configuration->>'$.FunctionName' AS resource_name,
    j.account_id,
    j.region,
    j.tags,
    CASE WHEN j.deprecation IS NULL AND NOT j.flagged_eol THEN 'PASS'
         WHEN j.flagged_eol OR j.deprecation <= current_date + INTERVAL 90 DAY THEN 'FAIL'
         ELSE 'PASS' END AS status,
    CASE WHEN j.deprecation IS NOT NULL AND j.deprecation <= current_date
             THEN 'Runtime ' || j.runtime || ' (' || j.label || ') has been deprecated since ' || CAST(j.deprecation AS VARCHAR) || ': no more security patches.'
         WHEN j.deprecation IS NULL AND j.flagged_eol
             THEN 'Runtime ' || j.runtime || ' (' || j.label || ') is marked end of life.'
         WHEN j.deprecation IS NOT NULL AND j.deprecation <= current_date + INTERVAL 90 DAY
             THEN 'Runtime ' || j.runtime || ' (' || j.label || ') will be deprecated on ' || CAST(j.deprecation AS VARCHAR) || ', within 90 days.'
         WHEN j.deprecation IS NOT NULL
             THEN 'Runtime ' || j.runtime || ' (' || j.label || ') is supported until ' || CAST(j.deprecation AS VARCHAR) || '.'
         ELSE 'Runtime ' || j.runtime || ' (' || j.label || ') has no announced deprecation date.' END AS detail
FROM judged AS j
