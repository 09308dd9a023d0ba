-- The release cycle of an engine version: AWS's calendars list PostgreSQL by major (`14`),
-- MySQL by full version (`8.0.46`); the most specific cycle that exists wins.
WITH products AS (
    SELECT 'postgres' AS engine, 'amazon-rds-postgresql' AS product
    UNION ALL SELECT 'mysql', 'amazon-rds-mysql'
    UNION ALL SELECT 'aurora-postgresql', 'amazon-aurora-postgresql'
),
cycles AS (
    SELECT
        e.product,
        e.cycle,
        CASE WHEN e.eol LIKE '____-__-__' ESCAPE '\' THEN CAST(e.eol AS DATE) END AS standard_end,
        CASE WHEN (e.release->>'$.eoes') LIKE '____-__-__' ESCAPE '\'
             THEN CAST(e.release->>'$.eoes' AS DATE) END AS extended_end
    FROM cwpp_eol AS e
    WHERE e.product IN (SELECT product FROM products)
),
candidates AS (
    SELECT
        i.arn, i.db_instance_identifier, i.account_id, i.region, i.tags, i.engine, i.engine_version,
        c.cycle, c.standard_end, c.extended_end,
        row_number() OVER (PARTITION BY i.arn ORDER BY length(c.cycle) DESC) AS best
    FROM aws_rds_instances AS i
    JOIN products AS p ON p.engine = i.engine
    JOIN cycles AS c
      ON c.product = p.product
     AND (c.cycle = i.engine_version
          OR c.cycle = split_part(i.engine_version, '.', 1)
          OR c.cycle = split_part(i.engine_version, '.', 1) || '.' || split_part(i.engine_version, '.', 2))
    WHERE c.standard_end IS NOT NULL
)
SELECT
    arn AS resource_uid,
    db_instance_identifier AS resource_name,
    account_id,
    region,
    tags,
    CASE WHEN standard_end <= current_date THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN extended_end IS NOT NULL AND extended_end <= current_date
             THEN engine || ' ' || engine_version || ' is past the end of RDS Extended Support ('
                  || CAST(extended_end AS VARCHAR) || ').'
         WHEN standard_end <= current_date
             THEN engine || ' ' || engine_version || ' left RDS standard support on '
                  || CAST(standard_end AS VARCHAR) || ' (release cycle ' || cycle || ')'
                  || COALESCE('; paid Extended Support ends ' || CAST(extended_end AS VARCHAR), '') || '.'
         ELSE engine || ' ' || engine_version || ' is in RDS standard support until '
              || CAST(standard_end AS VARCHAR) || '.'
    END AS detail
FROM candidates
WHERE best = 1
