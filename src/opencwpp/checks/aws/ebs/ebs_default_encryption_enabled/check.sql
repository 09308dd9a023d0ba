SELECT
    'arn:' || CASE WHEN c.region LIKE 'cn-%' ESCAPE '\' THEN 'aws-cn'
                   WHEN c.region LIKE 'us-gov-%' ESCAPE '\' THEN 'aws-us-gov'
                   ELSE 'aws' END
        || ':ec2:' || c.region || ':' || c.account_id || ':regional-config/ebs-encryption-by-default' AS resource_uid,
    'EBS encryption by default (' || c.region || ')' AS resource_name,
    c.account_id,
    c.region,
    CASE WHEN c.ebs_encryption_enabled_by_default THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN c.ebs_encryption_enabled_by_default
             THEN 'EBS encryption by default is on in ' || c.region || ', with the default key '
                  || COALESCE(NULLIF(c.ebs_default_kms_key_id, ''), 'alias/aws/ebs') || '.'
         ELSE 'EBS encryption by default is off in ' || c.region || ': new volumes are unencrypted unless each request asks for encryption.' END AS detail
FROM aws_ec2_regional_configs AS c
