-- CIS AWS Foundations 3.0 section 4 (4.1-4.15): per account and control, whether CloudTrail
-- events reach an alarm someone receives. The chain CIS audits: a trail that is multi-region,
-- logging, records read and write management events and delivers to a CloudWatch Logs group;
-- a metric filter on THAT group whose pattern holds every term CIS requires; an alarm (actions
-- enabled) on the filter's metric (name + namespace, same account and region); and among the
-- alarm's actions an SNS topic with a confirmed subscription (an ARN, not PendingConfirmation).
--
-- Patterns are compared after normalising: whitespace and double quotes removed, and the
-- delimiters { } ( ) | & all read as `)`, so a term matches only whole (`$.eventName=CreateRoute`
-- is not satisfied by `CreateRouteTable`, nor by `$.eventName!=CreateRoute`). Comparison is
-- case-sensitive, as CloudWatch Logs matches. Extra terms are allowed. Not required: the
-- `$.eventSource` terms (they only narrow to the service the event names belong to) and 4.1's
-- noise exclusions (sourceIPAddress, HeadBucket). Terms are looked for, not the boolean
-- structure: a filter joining the event names with && instead of || still counts.
WITH terms (control_key, cis_id, term, shown) AS (
    VALUES
        ('unauthorized_api_calls', '4.1', '$.errorCode=*UnauthorizedOperation', '$.errorCode=*UnauthorizedOperation'),
        ('unauthorized_api_calls', '4.1', '$.errorCode=AccessDenied*', '$.errorCode=AccessDenied*'),
        ('console_signin_without_mfa', '4.2', '$.eventName=ConsoleLogin', '$.eventName=ConsoleLogin'),
        ('console_signin_without_mfa', '4.2', '$.additionalEventData.MFAUsed!=Yes', '$.additionalEventData.MFAUsed!=Yes'),
        ('root_usage', '4.3', '$.userIdentity.type=Root', '$.userIdentity.type=Root'),
        ('root_usage', '4.3', '$.userIdentity.invokedByNOTEXISTS', '$.userIdentity.invokedBy NOT EXISTS'),
        ('root_usage', '4.3', '$.eventType!=AwsServiceEvent', '$.eventType!=AwsServiceEvent'),
        ('iam_policy_changes', '4.4', '$.eventName=DeleteGroupPolicy', '$.eventName=DeleteGroupPolicy'),
        ('iam_policy_changes', '4.4', '$.eventName=DeleteRolePolicy', '$.eventName=DeleteRolePolicy'),
        ('iam_policy_changes', '4.4', '$.eventName=DeleteUserPolicy', '$.eventName=DeleteUserPolicy'),
        ('iam_policy_changes', '4.4', '$.eventName=PutGroupPolicy', '$.eventName=PutGroupPolicy'),
        ('iam_policy_changes', '4.4', '$.eventName=PutRolePolicy', '$.eventName=PutRolePolicy'),
        ('iam_policy_changes', '4.4', '$.eventName=PutUserPolicy', '$.eventName=PutUserPolicy'),
        ('iam_policy_changes', '4.4', '$.eventName=CreatePolicy', '$.eventName=CreatePolicy'),
        ('iam_policy_changes', '4.4', '$.eventName=DeletePolicy', '$.eventName=DeletePolicy'),
        ('iam_policy_changes', '4.4', '$.eventName=CreatePolicyVersion', '$.eventName=CreatePolicyVersion'),
        ('iam_policy_changes', '4.4', '$.eventName=DeletePolicyVersion', '$.eventName=DeletePolicyVersion'),
        ('iam_policy_changes', '4.4', '$.eventName=AttachRolePolicy', '$.eventName=AttachRolePolicy'),
        ('iam_policy_changes', '4.4', '$.eventName=DetachRolePolicy', '$.eventName=DetachRolePolicy'),
        ('iam_policy_changes', '4.4', '$.eventName=AttachUserPolicy', '$.eventName=AttachUserPolicy'),
        ('iam_policy_changes', '4.4', '$.eventName=DetachUserPolicy', '$.eventName=DetachUserPolicy'),
        ('iam_policy_changes', '4.4', '$.eventName=AttachGroupPolicy', '$.eventName=AttachGroupPolicy'),
        ('iam_policy_changes', '4.4', '$.eventName=DetachGroupPolicy', '$.eventName=DetachGroupPolicy'),
        ('cloudtrail_changes', '4.5', '$.eventName=CreateTrail', '$.eventName=CreateTrail'),
        ('cloudtrail_changes', '4.5', '$.eventName=UpdateTrail', '$.eventName=UpdateTrail'),
        ('cloudtrail_changes', '4.5', '$.eventName=DeleteTrail', '$.eventName=DeleteTrail'),
        ('cloudtrail_changes', '4.5', '$.eventName=StartLogging', '$.eventName=StartLogging'),
        ('cloudtrail_changes', '4.5', '$.eventName=StopLogging', '$.eventName=StopLogging'),
        ('console_auth_failures', '4.6', '$.eventName=ConsoleLogin', '$.eventName=ConsoleLogin'),
        ('console_auth_failures', '4.6', '$.errorMessage=Failedauthentication', '$.errorMessage="Failed authentication"'),
        ('kms_key_disable_or_deletion', '4.7', '$.eventName=DisableKey', '$.eventName=DisableKey'),
        ('kms_key_disable_or_deletion', '4.7', '$.eventName=ScheduleKeyDeletion', '$.eventName=ScheduleKeyDeletion'),
        ('s3_bucket_policy_changes', '4.8', '$.eventName=PutBucketAcl', '$.eventName=PutBucketAcl'),
        ('s3_bucket_policy_changes', '4.8', '$.eventName=PutBucketPolicy', '$.eventName=PutBucketPolicy'),
        ('s3_bucket_policy_changes', '4.8', '$.eventName=PutBucketCors', '$.eventName=PutBucketCors'),
        ('s3_bucket_policy_changes', '4.8', '$.eventName=PutBucketLifecycle', '$.eventName=PutBucketLifecycle'),
        ('s3_bucket_policy_changes', '4.8', '$.eventName=PutBucketReplication', '$.eventName=PutBucketReplication'),
        ('s3_bucket_policy_changes', '4.8', '$.eventName=DeleteBucketPolicy', '$.eventName=DeleteBucketPolicy'),
        ('s3_bucket_policy_changes', '4.8', '$.eventName=DeleteBucketCors', '$.eventName=DeleteBucketCors'),
        ('s3_bucket_policy_changes', '4.8', '$.eventName=DeleteBucketLifecycle', '$.eventName=DeleteBucketLifecycle'),
        ('s3_bucket_policy_changes', '4.8', '$.eventName=DeleteBucketReplication', '$.eventName=DeleteBucketReplication'),
        ('config_changes', '4.9', '$.eventName=StopConfigurationRecorder', '$.eventName=StopConfigurationRecorder'),
        ('config_changes', '4.9', '$.eventName=DeleteDeliveryChannel', '$.eventName=DeleteDeliveryChannel'),
        ('config_changes', '4.9', '$.eventName=PutDeliveryChannel', '$.eventName=PutDeliveryChannel'),
        ('config_changes', '4.9', '$.eventName=PutConfigurationRecorder', '$.eventName=PutConfigurationRecorder'),
        ('security_group_changes', '4.10', '$.eventName=AuthorizeSecurityGroupIngress', '$.eventName=AuthorizeSecurityGroupIngress'),
        ('security_group_changes', '4.10', '$.eventName=AuthorizeSecurityGroupEgress', '$.eventName=AuthorizeSecurityGroupEgress'),
        ('security_group_changes', '4.10', '$.eventName=RevokeSecurityGroupIngress', '$.eventName=RevokeSecurityGroupIngress'),
        ('security_group_changes', '4.10', '$.eventName=RevokeSecurityGroupEgress', '$.eventName=RevokeSecurityGroupEgress'),
        ('security_group_changes', '4.10', '$.eventName=CreateSecurityGroup', '$.eventName=CreateSecurityGroup'),
        ('security_group_changes', '4.10', '$.eventName=DeleteSecurityGroup', '$.eventName=DeleteSecurityGroup'),
        ('nacl_changes', '4.11', '$.eventName=CreateNetworkAcl', '$.eventName=CreateNetworkAcl'),
        ('nacl_changes', '4.11', '$.eventName=CreateNetworkAclEntry', '$.eventName=CreateNetworkAclEntry'),
        ('nacl_changes', '4.11', '$.eventName=DeleteNetworkAcl', '$.eventName=DeleteNetworkAcl'),
        ('nacl_changes', '4.11', '$.eventName=DeleteNetworkAclEntry', '$.eventName=DeleteNetworkAclEntry'),
        ('nacl_changes', '4.11', '$.eventName=ReplaceNetworkAclEntry', '$.eventName=ReplaceNetworkAclEntry'),
        ('nacl_changes', '4.11', '$.eventName=ReplaceNetworkAclAssociation', '$.eventName=ReplaceNetworkAclAssociation'),
        ('network_gateway_changes', '4.12', '$.eventName=CreateCustomerGateway', '$.eventName=CreateCustomerGateway'),
        ('network_gateway_changes', '4.12', '$.eventName=DeleteCustomerGateway', '$.eventName=DeleteCustomerGateway'),
        ('network_gateway_changes', '4.12', '$.eventName=AttachInternetGateway', '$.eventName=AttachInternetGateway'),
        ('network_gateway_changes', '4.12', '$.eventName=CreateInternetGateway', '$.eventName=CreateInternetGateway'),
        ('network_gateway_changes', '4.12', '$.eventName=DeleteInternetGateway', '$.eventName=DeleteInternetGateway'),
        ('network_gateway_changes', '4.12', '$.eventName=DetachInternetGateway', '$.eventName=DetachInternetGateway'),
        ('route_table_changes', '4.13', '$.eventName=CreateRoute', '$.eventName=CreateRoute'),
        ('route_table_changes', '4.13', '$.eventName=CreateRouteTable', '$.eventName=CreateRouteTable'),
        ('route_table_changes', '4.13', '$.eventName=ReplaceRoute', '$.eventName=ReplaceRoute'),
        ('route_table_changes', '4.13', '$.eventName=ReplaceRouteTableAssociation', '$.eventName=ReplaceRouteTableAssociation'),
        ('route_table_changes', '4.13', '$.eventName=DeleteRouteTable', '$.eventName=DeleteRouteTable'),
        ('route_table_changes', '4.13', '$.eventName=DeleteRoute', '$.eventName=DeleteRoute'),
        ('route_table_changes', '4.13', '$.eventName=DisassociateRouteTable', '$.eventName=DisassociateRouteTable'),
        ('vpc_changes', '4.14', '$.eventName=CreateVpc', '$.eventName=CreateVpc'),
        ('vpc_changes', '4.14', '$.eventName=DeleteVpc', '$.eventName=DeleteVpc'),
        ('vpc_changes', '4.14', '$.eventName=ModifyVpcAttribute', '$.eventName=ModifyVpcAttribute'),
        ('vpc_changes', '4.14', '$.eventName=AcceptVpcPeeringConnection', '$.eventName=AcceptVpcPeeringConnection'),
        ('vpc_changes', '4.14', '$.eventName=CreateVpcPeeringConnection', '$.eventName=CreateVpcPeeringConnection'),
        ('vpc_changes', '4.14', '$.eventName=DeleteVpcPeeringConnection', '$.eventName=DeleteVpcPeeringConnection'),
        ('vpc_changes', '4.14', '$.eventName=RejectVpcPeeringConnection', '$.eventName=RejectVpcPeeringConnection'),
        ('vpc_changes', '4.14', '$.eventName=AttachClassicLinkVpc', '$.eventName=AttachClassicLinkVpc'),
        ('vpc_changes', '4.14', '$.eventName=DetachClassicLinkVpc', '$.eventName=DetachClassicLinkVpc'),
        ('vpc_changes', '4.14', '$.eventName=DisableVpcClassicLink', '$.eventName=DisableVpcClassicLink'),
        ('vpc_changes', '4.14', '$.eventName=EnableVpcClassicLink', '$.eventName=EnableVpcClassicLink'),
        ('organizations_changes', '4.15', '$.eventName=AcceptHandshake', '$.eventName=AcceptHandshake'),
        ('organizations_changes', '4.15', '$.eventName=AttachPolicy', '$.eventName=AttachPolicy'),
        ('organizations_changes', '4.15', '$.eventName=CreateAccount', '$.eventName=CreateAccount'),
        ('organizations_changes', '4.15', '$.eventName=CreateOrganizationalUnit', '$.eventName=CreateOrganizationalUnit'),
        ('organizations_changes', '4.15', '$.eventName=CreatePolicy', '$.eventName=CreatePolicy'),
        ('organizations_changes', '4.15', '$.eventName=DeclineHandshake', '$.eventName=DeclineHandshake'),
        ('organizations_changes', '4.15', '$.eventName=DeleteOrganization', '$.eventName=DeleteOrganization'),
        ('organizations_changes', '4.15', '$.eventName=DeleteOrganizationalUnit', '$.eventName=DeleteOrganizationalUnit'),
        ('organizations_changes', '4.15', '$.eventName=DeletePolicy', '$.eventName=DeletePolicy'),
        ('organizations_changes', '4.15', '$.eventName=DetachPolicy', '$.eventName=DetachPolicy'),
        ('organizations_changes', '4.15', '$.eventName=DisablePolicyType', '$.eventName=DisablePolicyType'),
        ('organizations_changes', '4.15', '$.eventName=EnablePolicyType', '$.eventName=EnablePolicyType'),
        ('organizations_changes', '4.15', '$.eventName=InviteAccountToOrganization', '$.eventName=InviteAccountToOrganization'),
        ('organizations_changes', '4.15', '$.eventName=LeaveOrganization', '$.eventName=LeaveOrganization'),
        ('organizations_changes', '4.15', '$.eventName=MoveAccount', '$.eventName=MoveAccount'),
        ('organizations_changes', '4.15', '$.eventName=RemoveAccountFromOrganization', '$.eventName=RemoveAccountFromOrganization'),
        ('organizations_changes', '4.15', '$.eventName=UpdatePolicy', '$.eventName=UpdatePolicy'),
        ('organizations_changes', '4.15', '$.eventName=UpdateOrganizationalUnit', '$.eventName=UpdateOrganizationalUnit')
),
controls AS (
    SELECT control_key, cis_id, COUNT(*) AS required FROM terms GROUP BY control_key, cis_id
),
accounts AS (
    SELECT account_id FROM aws_iam_accounts WHERE account_id IS NOT NULL
    UNION
    SELECT account_id FROM aws_cloudtrail_trails WHERE account_id IS NOT NULL
),
trails AS (
    -- The log group ARN is arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME:*
    SELECT
        t.account_id,
        t.name AS trail_name,
        split_part(t.cloud_watch_logs_log_group_arn, ':', 5) AS group_account,
        split_part(t.cloud_watch_logs_log_group_arn, ':', 4) AS group_region,
        split_part(t.cloud_watch_logs_log_group_arn, ':', 7) AS group_name,
        COALESCE(t.is_multi_region_trail, FALSE) AS multi_region,
        COALESCE(CAST(t.status->>'$.IsLogging' AS BOOLEAN), FALSE) AS logging,
        COALESCE(c.reads, 0) = 1 AND COALESCE(c.writes, 0) = 1 AS all_management,
        COALESCE(split_part(t.cloud_watch_logs_log_group_arn, ':', 7), '') <> '' AS to_logs
    FROM aws_cloudtrail_trails AS t
    -- Management-event coverage per trail, as cloudtrail_management_events_all judges it.
    LEFT JOIN cwpp_aws_cloudtrail_management_coverage AS c ON c.trail_arn = t.arn
),
trail_summary AS (
    SELECT
        account_id,
        string_agg(DISTINCT group_name, ', ' ORDER BY group_name)
            FILTER (WHERE multi_region AND logging AND all_management AND to_logs) AS groups,
        string_agg(
            trail_name || ' (' || concat_ws(', ',
                CASE WHEN NOT multi_region THEN 'single-region' END,
                CASE WHEN NOT logging THEN 'not logging' END,
                CASE WHEN NOT all_management THEN 'not all management events' END,
                CASE WHEN NOT to_logs THEN 'no CloudWatch Logs group' END) || ')',
            ', ' ORDER BY trail_name
        ) FILTER (WHERE NOT (multi_region AND logging AND all_management AND to_logs)) AS lacking
    FROM trails
    GROUP BY account_id
),
watched AS (
    -- Metric filters on the log group of a qualifying trail, attributed to the trail's account.
    SELECT DISTINCT
        t.account_id,
        f.account_id AS filter_account,
        f.region,
        f.log_group_name,
        f.filter_name,
        f.metric_transformations->>'$[0].MetricName' AS metric_name,
        f.metric_transformations->>'$[0].MetricNamespace' AS metric_namespace,
        ')' || translate(regexp_replace(COALESCE(f.filter_pattern, ''), '\s', '', 'g'), '{}(|&"', ')))))') || ')' AS pattern
    FROM trails AS t
    JOIN aws_cloudwatchlogs_metric_filters AS f
        ON f.account_id = t.group_account AND f.region = t.group_region AND f.log_group_name = t.group_name
    WHERE t.multi_region AND t.logging AND t.all_management AND t.to_logs
),
judged AS (
    SELECT
        w.account_id,
        w.filter_account,
        w.region,
        w.log_group_name,
        w.filter_name,
        w.metric_name,
        w.metric_namespace,
        c.control_key,
        c.required,
        SUM(CASE WHEN strpos(w.pattern, ')' || t.term || ')') > 0 THEN 1 ELSE 0 END) AS matched,
        string_agg(CASE WHEN strpos(w.pattern, ')' || t.term || ')') = 0 THEN t.shown END, ', ' ORDER BY t.shown) AS missing
    FROM watched AS w
    CROSS JOIN controls AS c
    JOIN terms AS t ON t.control_key = c.control_key
    GROUP BY w.account_id, w.filter_account, w.region, w.log_group_name, w.filter_name,
             w.metric_name, w.metric_namespace, c.control_key, c.required
),
closest AS (
    -- The near miss the detail names: the filter on a watched group holding most of the terms.
    SELECT account_id, control_key, filter_name, missing,
           ROW_NUMBER() OVER (PARTITION BY account_id, control_key ORDER BY matched DESC, filter_name) AS rank
    FROM judged
    WHERE matched < required AND matched > 0
),
subscribed AS (
    SELECT DISTINCT topic_arn
    FROM aws_sns_subscriptions
    WHERE arn LIKE 'arn:%' ESCAPE '\' AND NOT COALESCE(pending_confirmation, FALSE)
),
chains AS (
    SELECT
        j.account_id,
        j.control_key,
        j.filter_name,
        j.metric_namespace || '/' || j.metric_name AS metric,
        a.alarm_name,
        s.topic_arn
    FROM judged AS j
    LEFT JOIN aws_cloudwatch_alarms AS a
        ON a.account_id = j.filter_account AND a.region = j.region
       AND a.metric_name = j.metric_name AND a.namespace = j.metric_namespace
       AND COALESCE(a.actions_enabled, TRUE)
    LEFT JOIN subscribed AS s ON list_contains(a.alarm_actions, s.topic_arn)
    WHERE j.matched = j.required
),
chain_summary AS (
    SELECT
        account_id,
        control_key,
        MIN(CASE WHEN topic_arn IS NOT NULL
                 THEN 'metric filter ' || filter_name || ' -> alarm ' || alarm_name || ' -> topic ' || topic_arn END) AS complete,
        string_agg(DISTINCT alarm_name, ', ' ORDER BY alarm_name) AS alarms,
        string_agg(DISTINCT filter_name || ' (metric ' || COALESCE(metric, '?') || ')', ', '
                   ORDER BY filter_name || ' (metric ' || COALESCE(metric, '?') || ')') AS filters
    FROM chains
    GROUP BY account_id, control_key
)
SELECT
    a.account_id,
    c.control_key,
    c.cis_id,
    cs.complete IS NOT NULL AS passed,
    CASE
        WHEN cs.complete IS NOT NULL
            THEN 'Alarm chain in place: ' || cs.complete || '.'
        WHEN cs.alarms IS NOT NULL
            THEN 'Alarm(s) ' || cs.alarms || ' watch the metric filter, but none notifies an SNS topic with a confirmed subscription.'
        WHEN cs.filters IS NOT NULL
            THEN 'Metric filter(s) ' || cs.filters || ' match the CIS pattern, but no alarm with actions enabled watches the metric.'
        WHEN ts.groups IS NOT NULL
            THEN 'No metric filter on log group(s) ' || ts.groups || ' matches the CIS pattern'
                 || COALESCE('; closest: ' || cl.filter_name || ' lacks ' || cl.missing, '') || '.'
        WHEN ts.lacking IS NOT NULL
            THEN 'No trail is multi-region, logging, recording all management events and delivering to CloudWatch Logs; trail(s): '
                 || ts.lacking || '.'
        ELSE 'The account has no CloudTrail trail.'
    END AS detail
FROM accounts AS a
CROSS JOIN controls AS c
LEFT JOIN trail_summary AS ts ON ts.account_id = a.account_id
LEFT JOIN chain_summary AS cs ON cs.account_id = a.account_id AND cs.control_key = c.control_key
LEFT JOIN closest AS cl ON cl.account_id = a.account_id AND cl.control_key = c.control_key AND cl.rank = 1
