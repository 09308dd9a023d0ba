-- Per trail, whether its event selectors record read and write management events. Selectors
-- are rows of cwpp_aws_cloudtrail_selector_fields in the advanced vocabulary. A selector
-- records management reads when it has eventCategory = Management and no readOnly field or one
-- admitting `true` (writes: `false`); an advanced selector with any other field (eventName, ...)
-- besides an eventSource exclusion records only part of them (`partial`).
WITH selectors AS (
    SELECT
        trail_arn,
        kind,
        selector_index,
        MAX(CASE WHEN field = 'eventCategory' AND operator = 'Equals' AND value = 'Management' THEN 1 ELSE 0 END) AS management,
        MAX(CASE WHEN field = 'readOnly' THEN 1 ELSE 0 END) AS has_read_only,
        MAX(CASE WHEN field = 'readOnly' AND ((operator = 'Equals' AND value = 'true') OR (operator = 'NotEquals' AND value = 'false')) THEN 1 ELSE 0 END) AS reads,
        MAX(CASE WHEN field = 'readOnly' AND ((operator = 'Equals' AND value = 'false') OR (operator = 'NotEquals' AND value = 'true')) THEN 1 ELSE 0 END) AS writes,
        MAX(CASE WHEN kind = 'advanced' AND field NOT IN ('eventCategory', 'readOnly')
                      AND NOT (field = 'eventSource' AND operator IN ('NotEquals', 'NotStartsWith', 'NotEndsWith'))
                 THEN 1 ELSE 0 END) AS narrowed
    FROM cwpp_aws_cloudtrail_selector_fields
    GROUP BY trail_arn, kind, selector_index
)
SELECT
    trail_arn,
    MAX(CASE WHEN management = 1 AND narrowed = 0 AND (has_read_only = 0 OR reads = 1) THEN 1 ELSE 0 END) AS reads,
    MAX(CASE WHEN management = 1 AND narrowed = 0 AND (has_read_only = 0 OR writes = 1) THEN 1 ELSE 0 END) AS writes,
    MAX(CASE WHEN management = 1 AND narrowed = 1 THEN 1 ELSE 0 END) AS partial
FROM selectors
GROUP BY trail_arn
