SELECT
    p.id AS resource_uid,
    'Defender plan ' || p.name AS resource_name,
    p.subscription_id AS account_id,
    CAST(NULL AS VARCHAR) AS region,
    CASE WHEN lower(COALESCE(p.properties->>'$.pricingTier', 'Free')) = 'free'
         THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN lower(COALESCE(p.properties->>'$.pricingTier', 'Free')) = 'free'
             THEN 'Defender for Servers is off (pricing tier Free).'
         ELSE 'Defender for Servers is on (pricing tier ' || (p.properties->>'$.pricingTier')
             || COALESCE(', plan ' || (p.properties->>'$.subPlan'), '') || ').'
    END AS detail
FROM azure_security_pricings AS p
WHERE lower(p.name) = 'virtualmachines'
