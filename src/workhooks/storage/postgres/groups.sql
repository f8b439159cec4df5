-- name: group_ancestors
-- The group $3 and every group above it, one primary-key lookup per step (see
-- people_in_groups for the OFFSET 0).
WITH RECURSIVE up(id, parent_id) AS (
    SELECT id, parent_id FROM person_groups WHERE tenant = $1 AND kind = $2 AND id = $3
    UNION
    SELECT parent.id, parent.parent_id FROM up, LATERAL (
        SELECT id, parent_id FROM person_groups
        WHERE tenant = $1 AND kind = $2 AND id = up.parent_id
        OFFSET 0
    ) AS parent
)
SELECT id FROM up

-- name: lock_tree
-- One writer of a tenant's tree at a time, so two moves cannot close a cycle together.
SELECT pg_advisory_xact_lock(hashtextextended('person_groups:' || $1 || ':' || $2, 0))

-- name: get_group
SELECT id, name, parent_id FROM person_groups WHERE tenant = $1 AND kind = $2 AND id = $3

-- name: upsert_group
INSERT INTO person_groups (tenant, kind, id, name, parent_id) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (tenant, kind, id) DO UPDATE SET name = excluded.name, parent_id = excluded.parent_id
RETURNING (xmax = 0) AS created

-- name: group_members
SELECT person_id FROM person_group_members
WHERE tenant = $1 AND kind = $2 AND group_id = $3
ORDER BY person_id

-- name: delete_group_members
DELETE FROM person_group_members WHERE tenant = $1 AND kind = $2 AND group_id = $3

-- name: insert_group_members
INSERT INTO person_group_members (tenant, kind, group_id, person_id)
SELECT $1, $2, $3, p FROM unnest($4::bigint[]) AS p

-- name: group_has_children
SELECT EXISTS (SELECT 1 FROM person_groups WHERE tenant = $1 AND kind = $2 AND parent_id = $3)

-- name: delete_group
DELETE FROM person_groups WHERE tenant = $1 AND kind = $2 AND id = $3

-- name: people_in_groups
-- The people of the groups $3 and of every group below them. Each step is an index lookup
-- from the groups found so far: LATERAL with OFFSET 0 keeps the planner from flattening it
-- into a scan of the tenant's whole tree per group, which it chose for young tables.
WITH RECURSIVE below(id) AS (
    SELECT g.id FROM unnest($3::bigint[]) AS wanted(id), LATERAL (
        SELECT id FROM person_groups WHERE tenant = $1 AND kind = $2 AND id = wanted.id OFFSET 0
    ) AS g
    UNION
    SELECT child.id FROM below, LATERAL (
        SELECT id FROM person_groups
        WHERE tenant = $1 AND kind = $2 AND parent_id = below.id
        OFFSET 0
    ) AS child
)
SELECT DISTINCT m.person_id FROM below, LATERAL (
    SELECT person_id FROM person_group_members
    WHERE tenant = $1 AND kind = $2 AND group_id = below.id
    OFFSET 0
) AS m
