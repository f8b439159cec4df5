-- name: group_ancestors
-- The group $3 and every group above it.
WITH RECURSIVE up(id, parent_id) AS (
    SELECT id, parent_id FROM person_groups WHERE tenant = $1 AND kind = $2 AND id = $3
    UNION
    SELECT g.id, g.parent_id FROM person_groups AS g JOIN up ON g.id = up.parent_id
    WHERE g.tenant = $1 AND g.kind = $2
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
-- The people of the groups $3 and of every group below them.
WITH RECURSIVE below(id) AS (
    SELECT id FROM person_groups WHERE tenant = $1 AND kind = $2 AND id = ANY($3::bigint[])
    UNION
    SELECT g.id FROM person_groups AS g JOIN below ON g.parent_id = below.id
    WHERE g.tenant = $1 AND g.kind = $2
)
SELECT DISTINCT m.person_id FROM person_group_members AS m JOIN below ON m.group_id = below.id
WHERE m.tenant = $1 AND m.kind = $2
