-- Terminated instances are gone; every other state can run (or be started) with credentials.
SELECT
    i.arn AS resource_uid,
    i.instance_id AS resource_name,
    i.account_id,
    i.region,
    i.tags,
    CASE WHEN COALESCE(i.iam_instance_profile->>'$.Arn', '') = '' THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN COALESCE(i.iam_instance_profile->>'$.Arn', '') = ''
             THEN 'No instance profile: software on the instance that calls AWS needs long-lived access keys stored on it.'
         ELSE 'The instance gets temporary credentials through instance profile ' || (i.iam_instance_profile->>'$.Arn') || '.'
    END AS detail
FROM aws_ec2_instances AS i
WHERE COALESCE(i.state->>'$.Name', '') NOT IN ('terminated', 'shutting-down')
