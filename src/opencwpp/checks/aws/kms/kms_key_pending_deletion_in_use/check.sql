WITH pending AS (
    SELECT k.* FROM aws_kms_keys AS k WHERE k.key_state IN ('PendingDeletion', 'PendingReplicaDeletion')
),
key_forms AS (
    -- The forms a resource may use to name a pending key: ARN, key id, alias name, alias ARN.
    SELECT p.arn AS key_arn, p.arn AS ref, p.account_id, p.region FROM pending AS p
    UNION ALL
    SELECT p.arn, p.key_id, p.account_id, p.region FROM pending AS p
    UNION ALL
    SELECT p.arn, a.alias_name, a.account_id, a.region
    FROM aws_kms_aliases AS a JOIN pending AS p ON p.key_id = a.target_key_id AND p.account_id = a.account_id AND p.region = a.region
    UNION ALL
    SELECT p.arn, a.alias_arn, a.account_id, a.region
    FROM aws_kms_aliases AS a JOIN pending AS p ON p.key_id = a.target_key_id AND p.account_id = a.account_id AND p.region = a.region
),
refs AS (
    -- Encrypted resources and the key reference each one carries.
    SELECT account_id, region, kms_key_id AS ref, 'EBS volume ' || volume_id AS what FROM aws_ec2_ebs_volumes WHERE encrypted
    UNION ALL SELECT account_id, region, kms_key_id, 'EBS snapshot ' || snapshot_id FROM aws_ec2_ebs_snapshots WHERE encrypted
    UNION ALL SELECT account_id, region, kms_key_id, 'RDS instance ' || db_instance_identifier FROM aws_rds_instances WHERE storage_encrypted
    UNION ALL SELECT account_id, region, kms_key_id, 'RDS cluster ' || db_cluster_identifier FROM aws_rds_clusters WHERE storage_encrypted
    UNION ALL SELECT account_id, region, kms_key_id, 'RDS snapshot ' || db_snapshot_identifier FROM aws_rds_db_snapshots WHERE encrypted
    UNION ALL SELECT account_id, region, kms_key_id, 'RDS cluster snapshot ' || db_cluster_snapshot_identifier FROM aws_rds_cluster_snapshots WHERE storage_encrypted
    UNION ALL SELECT account_id, region, kms_key_id, 'EFS file system ' || file_system_id FROM aws_efs_filesystems WHERE encrypted
    UNION ALL SELECT account_id, region, sse_description->>'$.KMSMasterKeyArn', 'DynamoDB table ' || table_name FROM aws_dynamodb_tables
    UNION ALL SELECT account_id, region, kms_key_id, 'secret ' || name FROM aws_secretsmanager_secrets
    UNION ALL SELECT account_id, region, kms_master_key_id, 'SNS topic ' || split_part(arn, ':', 6) FROM aws_sns_topics
    UNION ALL SELECT account_id, region, kms_master_key_id, 'SQS queue ' || split_part(arn, ':', 6) FROM aws_sqs_queues
),
uses AS (
    SELECT DISTINCT f.key_arn, r.what
    FROM key_forms AS f
    JOIN refs AS r
      ON r.ref = f.ref
     AND (f.ref LIKE 'arn:%' ESCAPE '\' OR (r.account_id = f.account_id AND r.region = f.region))
),
ranked AS (
    SELECT key_arn, what, row_number() OVER (PARTITION BY key_arn ORDER BY what) AS n FROM uses
),
summary AS (
    SELECT
        key_arn,
        count(*) AS total,
        string_agg(CASE WHEN n <= 10 THEN what END, ', ' ORDER BY what) AS shown
    FROM ranked
    GROUP BY key_arn
)
SELECT
    p.arn AS resource_uid,
    p.key_id AS resource_name,
    p.account_id,
    p.region,
    p.tags,
    CASE WHEN s.key_arn IS NULL THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN s.key_arn IS NULL
             THEN 'The key is pending deletion' || COALESCE(' (on ' || CAST(CAST(p.deletion_date AS DATE) AS VARCHAR) || ')', '')
                  || ' and no collected EBS, RDS, EFS, DynamoDB, Secrets Manager, SNS or SQS resource references it.'
         ELSE 'The key is pending deletion' || COALESCE(' (on ' || CAST(CAST(p.deletion_date AS DATE) AS VARCHAR) || ')', '')
              || ' but ' || CAST(s.total AS VARCHAR) || ' resource(s) are encrypted with it: ' || s.shown
              || CASE WHEN s.total > 10 THEN ', ...' ELSE '' END || '.' END AS detail
FROM pending AS p
LEFT JOIN summary AS s ON s.key_arn = p.arn
