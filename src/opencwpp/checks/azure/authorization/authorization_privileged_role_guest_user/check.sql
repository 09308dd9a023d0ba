-- Built-in role GUIDs are the same in every tenant: Owner, Contributor, User Access
-- Administrator, Role Based Access Control Administrator. Custom roles are judged from their
-- Actions rows (split at load): everything, or writing role assignments.
WITH custom_admin AS (
    SELECT
        subscription_id,
        lower(regexp_replace(role_definition_id, '^.*/', '')) AS role_guid,
        min(role_name) AS role_name
    FROM cwpp_azure_role_definition_actions
    WHERE role_type = 'CustomRole'
      AND kind = 'Actions'
      AND lower(action) IN (
          '*',
          'microsoft.authorization/*',
          'microsoft.authorization/*/write',
          'microsoft.authorization/roleassignments/*',
          'microsoft.authorization/roleassignments/write'
      )
    GROUP BY subscription_id, lower(regexp_replace(role_definition_id, '^.*/', ''))
),
assignments AS (
    SELECT
        r.id,
        r.subscription_id,
        COALESCE(r.properties->>'$.scope', '?') AS scope,
        lower(r.properties->>'$.principalId') AS principal_id,
        lower(regexp_replace(COALESCE(r.properties->>'$.roleDefinitionId', ''), '^.*/', '')) AS role_guid
    FROM azure_authorization_role_assignments AS r
    WHERE lower(COALESCE(r.properties->>'$.principalType', 'User')) = 'user'
),
judged AS (
    SELECT
        a.id,
        a.subscription_id,
        a.scope,
        COALESCE(u.user_principal_name, u.id) AS upn,
        u.account_enabled,
        u.external_user_state,
        lower(COALESCE(u.user_type, '')) = 'guest' AS guest_type,
        lower(COALESCE(u.user_type, '')) = 'guest'
            OR COALESCE(u.external_user_state, '') <> '' AS guest,
        COALESCE(
            CASE a.role_guid
                WHEN '8e3af657-a8ff-443c-a75c-2fe8c4bcb635' THEN 'Owner'
                WHEN 'b24988ac-6180-42a0-ab88-20f7382dd24c' THEN 'Contributor'
                WHEN '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9' THEN 'User Access Administrator'
                WHEN 'f58310d9-a9f6-439a-9e8d-f62e7b41a168' THEN 'Role Based Access Control Administrator'
            END,
            CASE WHEN c.role_guid IS NOT NULL
                 THEN 'the custom role ' || COALESCE(c.role_name, a.role_guid) END
        ) AS privileged_role
    FROM assignments AS a
    JOIN cwpp_azure_entra_users AS u
      ON u.subscription_id = a.subscription_id AND lower(u.id) = a.principal_id
    LEFT JOIN custom_admin AS c
      ON c.subscription_id = a.subscription_id AND c.role_guid = a.role_guid
)
SELECT
    j.id AS resource_uid,
    j.upn AS resource_name,
    j.subscription_id AS account_id,
    CAST(NULL AS VARCHAR) AS region,
    CASE WHEN j.guest AND j.privileged_role IS NOT NULL THEN 'FAIL' ELSE 'PASS' END AS status,
    CASE WHEN j.guest AND j.privileged_role IS NOT NULL
             THEN CASE WHEN j.guest_type THEN 'Guest user ' ELSE 'External (B2B) member user ' END
                  || j.upn || ' holds ' || j.privileged_role || ' at ' || j.scope
                  || CASE WHEN j.account_enabled = false THEN ' (account disabled)' ELSE '' END
                  || CASE WHEN lower(COALESCE(j.external_user_state, '')) = 'pendingacceptance'
                          THEN ' (invitation not yet accepted)' ELSE '' END
                  || '.'
         WHEN j.guest
             THEN 'Guest user ' || j.upn || ' holds a role that is not privileged.'
         WHEN j.privileged_role IS NOT NULL
             THEN 'Member user ' || j.upn || ' (not a guest) holds ' || j.privileged_role || '.'
         ELSE 'Member user; the role is not privileged.'
    END AS detail
FROM judged AS j
