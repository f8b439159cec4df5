-- The named queries of org-groups and circles that PostgreSQL writes its own way, alike in name
-- and parameters in both SQL stores (see sqlite/groups.sql); those written alike are in
-- ../shared.sql.

-- name: group_ancestors
-- The group :id and every group above it, one primary-key lookup per step (see
-- people_in_groups for the OFFSET 0).
WITH RECURSIVE up(id, parent_id) AS (
    SELECT id, parent_id FROM person_groups WHERE tenant = :tenant AND kind = :kind AND id = :id
    UNION
    SELECT parent.id, parent.parent_id FROM up, LATERAL (
        SELECT id, parent_id FROM person_groups
        WHERE tenant = :tenant AND kind = :kind AND id = up.parent_id
        OFFSET 0
    ) AS parent
)
SELECT id FROM up

-- name: insert_group_members
-- Add people (:people, a list) to a group.
INSERT INTO person_group_members (tenant, kind, group_id, person_id)
SELECT :tenant, :kind, :id, p FROM unnest(:people::bigint[]) AS p

-- name: people_in_groups
-- The people of the groups :ids and of every group below them. Each step is an index lookup
-- from the groups found so far: LATERAL with OFFSET 0 keeps the planner from flattening it
-- into a scan of the tenant's whole tree per group, which it chose for young tables.
WITH RECURSIVE below(id) AS (
    SELECT g.id FROM unnest(:ids::bigint[]) AS wanted(id), LATERAL (
        SELECT id FROM person_groups
        WHERE tenant = :tenant AND kind = :kind AND id = wanted.id
        OFFSET 0
    ) AS g
    UNION
    SELECT child.id FROM below, LATERAL (
        SELECT id FROM person_groups
        WHERE tenant = :tenant AND kind = :kind AND parent_id = below.id
        OFFSET 0
    ) AS child
)
SELECT DISTINCT m.person_id FROM below, LATERAL (
    SELECT person_id FROM person_group_members
    WHERE tenant = :tenant AND kind = :kind AND group_id = below.id
    OFFSET 0
) AS m

-- name: lock_tree
-- One writer of a tenant's tree at a time, so two moves cannot close a cycle together.
SELECT pg_advisory_xact_lock(hashtextextended('person_groups:' || :tenant || ':' || :kind, 0))
