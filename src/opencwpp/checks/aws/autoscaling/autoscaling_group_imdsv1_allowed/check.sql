-- Resolves each group's launch source (launch configuration, or the launch template version it
-- names) and judges that source's metadata options; unresolved groups are not judged.
WITH groups AS (
    SELECT
        g.arn,
        g.auto_scaling_group_name,
        g.account_id,
        g.region,
        g.tags,
        g.launch_configuration_name,
        COALESCE(g.launch_template->>'$.LaunchTemplateId',
                 g.mixed_instances_policy->>'$.LaunchTemplate.LaunchTemplateSpecification.LaunchTemplateId') AS lt_id,
        COALESCE(g.launch_template->>'$.LaunchTemplateName',
                 g.mixed_instances_policy->>'$.LaunchTemplate.LaunchTemplateSpecification.LaunchTemplateName') AS lt_name,
        COALESCE(g.launch_template->>'$.Version',
                 g.mixed_instances_policy->>'$.LaunchTemplate.LaunchTemplateSpecification.Version',
                 '$Default') AS lt_version
    FROM aws_autoscaling_groups AS g
),
templates AS (
    SELECT
        g.arn AS group_arn,
        'launch template ' || COALESCE(t.launch_template_name, t.launch_template_id) || ' version '
            || CAST(v.version_number AS VARCHAR) AS source,
        lower(COALESCE(v.launch_template_data->>'$.MetadataOptions.HttpTokens', '')) AS http_tokens,
        lower(COALESCE(v.launch_template_data->>'$.MetadataOptions.HttpEndpoint', 'enabled')) AS http_endpoint
    FROM groups AS g
    JOIN aws_ec2_launch_templates AS t
        ON t.account_id = g.account_id AND t.region = g.region
       AND (t.launch_template_id = g.lt_id OR (g.lt_id IS NULL AND t.launch_template_name = g.lt_name))
    JOIN aws_ec2_launch_template_versions AS v
        ON v.arn = t.arn
       AND ((g.lt_version = '$Default' AND v.default_version)
            OR (g.lt_version = '$Latest' AND v.version_number = t.latest_version_number)
            OR CAST(v.version_number AS VARCHAR) = g.lt_version)
),
configs AS (
    SELECT
        g.arn AS group_arn,
        'launch configuration ' || c.launch_configuration_name AS source,
        lower(COALESCE(c.metadata_options->>'$.HttpTokens', '')) AS http_tokens,
        lower(COALESCE(c.metadata_options->>'$.HttpEndpoint', 'enabled')) AS http_endpoint
    FROM groups AS g
    JOIN aws_autoscaling_launch_configurations AS c
        ON c.account_id = g.account_id AND c.region = g.region
       AND c.launch_configuration_name = g.launch_configuration_name
),
sources AS (
    SELECT group_arn, source, http_tokens, http_endpoint FROM templates
    UNION ALL
    SELECT group_arn, source, http_tokens, http_endpoint FROM configs
)
SELECT
    g.arn AS resource_uid,
    g.auto_scaling_group_name AS resource_name,
    g.account_id,
    g.region,
    g.tags,
    CASE WHEN s.http_endpoint = 'disabled' OR s.http_tokens = 'required' THEN 'PASS' ELSE 'FAIL' END AS status,
    CASE WHEN s.http_endpoint = 'disabled'
             THEN 'Instances come from ' || s.source || ', which disables the metadata endpoint.'
         WHEN s.http_tokens = 'required'
             THEN 'Instances come from ' || s.source || ', which requires IMDSv2 session tokens.'
         ELSE 'Instances come from ' || s.source || ', which allows IMDSv1 (HttpTokens '
              || COALESCE(NULLIF(s.http_tokens, ''), 'not set: the AMI or account default decides') || ').'
    END AS detail
FROM groups AS g
JOIN sources AS s ON s.group_arn = g.arn
