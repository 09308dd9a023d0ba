WITH key_refs AS (
    -- Every form a key can be referenced by: key ARN, key id, alias name, alias ARN.
    SELECT k.arn AS ref, k.arn AS key_arn, k.key_manager, k.account_id, k.region FROM aws_kms_keys AS k
    UNION ALL
    SELECT k.key_id, k.arn, k.key_manager, k.account_id, k.region FROM aws_kms_keys AS k
    UNION ALL
    SELECT a.alias_name, k.arn, k.key_manager, a.account_id, a.region
    FROM aws_kms_aliases AS a
    JOIN aws_kms_keys AS k ON k.key_id = a.target_key_id AND k.account_id = a.account_id AND k.region = a.region
    UNION ALL
    SELECT a.alias_arn, k.arn, k.key_manager, a.account_id, a.region
    FROM aws_kms_aliases AS a
    JOIN aws_kms_keys AS k ON k.key_id = a.target_key_id AND k.account_id = a.account_id AND k.region = a.region
),
resolved AS (
    SELECT s.arn, max(CASE WHEN kr.key_manager = 'AWS' THEN 1 ELSE 0 END) AS aws_managed, max(kr.key_arn) AS key_arn
    FROM aws_secretsmanager_secrets AS s
    JOIN key_refs AS kr
      ON kr.ref = s.kms_key_id
     AND (s.kms_key_id LIKE 'arn:%' ESCAPE '\' OR (kr.account_id = s.account_id AND kr.region = s.region))
    GROUP BY s.arn
),
judged AS (
    SELECT
        s.*,
        r.key_arn AS resolved_key,
        trim(COALESCE(s.kms_key_id, '')) = '' AS no_key,
        s.kms_key_id LIKE 'alias/aws/%' ESCAPE '\' OR s.kms_key_id LIKE 'arn:%:alias/aws/%' ESCAPE '\' OR COALESCE(r.aws_managed, 0) = 1 AS aws_key
    FROM aws_secretsmanager_secrets AS s
    LEFT JOIN resolved AS r ON r.arn = s.arn
)
SELECT
    j.arn AS resource_uid,
    j.name AS resource_name,
    j.account_id,
    j.region,
    j.tags,
    CASE WHEN j.no_key OR j.aws_key THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN j.no_key THEN 'No KMS key is reported, which means the AWS managed key aws/secretsmanager.'
         WHEN j.aws_key THEN 'Encrypted with the AWS managed key ' || j.kms_key_id || ', not a customer managed key.'
         WHEN j.resolved_key IS NULL THEN 'Encrypted with ' || j.kms_key_id || ', a key not found in the lake (another account or not collected); not an AWS managed alias.'
         ELSE 'Encrypted with the customer managed key ' || j.resolved_key || '.' END AS detail
FROM judged AS j
