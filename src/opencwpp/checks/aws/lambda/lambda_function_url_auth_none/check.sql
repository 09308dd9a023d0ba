WITH urls AS (
    -- URL configs of the function itself and of its aliases (function_arn:alias).
    SELECT
        f.arn,
        string_agg(u.function_url, ', ' ORDER BY u.function_url) FILTER (WHERE upper(u.auth_type) = 'NONE') AS open_urls,
        count(u.function_arn) AS n_urls
    FROM aws_lambda_functions AS f
    -- An equality (the config's ARN without its alias qualifier), so the join is a hash join.
    LEFT JOIN aws_lambda_function_url_configs AS u
        ON f.arn = CASE WHEN split_part(u.function_arn, ':', 8) = '' THEN u.function_arn
                        ELSE left(u.function_arn, length(u.function_arn) - length(split_part(u.function_arn, ':', 8)) - 1)
                   END
    GROUP BY f.arn
)
SELECT
    f.arn AS resource_uid,
    f.configuration->>'$.FunctionName' AS resource_name,
    f.account_id,
    f.region,
    f.tags,
    CASE WHEN u.open_urls IS NOT NULL THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN u.open_urls IS NOT NULL
             THEN 'Function URL(s) with auth type NONE (anyone who knows the URL can invoke the function): ' || u.open_urls || '.'
         WHEN u.n_urls > 0
             THEN 'The function URL(s) require IAM authentication (auth type AWS_IAM).'
         ELSE 'The function has no function URL.'
    END AS detail
FROM aws_lambda_functions AS f
JOIN urls AS u ON u.arn = f.arn
