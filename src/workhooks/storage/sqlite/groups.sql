-- The named queries of org-groups and circles that SQLite writes its own way, alike in name
-- and parameters in both SQL stores (see postgres/groups.sql); those written alike are in
-- ../shared.sql.

-- name: group_ancestors
-- A group and every group above it.
WITH RECURSIVE up(id, parent_id) AS (
    SELECT id, parent_id FROM person_groups
    WHERE tenant = :tenant AND kind = :kind AND id = :id
    UNION
    SELECT g.id, g.parent_id FROM person_groups AS g JOIN up ON g.id = up.parent_id
    WHERE g.tenant = :tenant AND g.kind = :kind
)
SELECT id FROM up

-- name: insert_group_members
-- Add people (:people, a list) to a group.
INSERT INTO person_group_members (tenant, kind, group_id, person_id)
SELECT :tenant, :kind, :id, value FROM json_each(:people)

-- name: people_in_groups
-- The people of the groups asked for and of every group below them.
WITH RECURSIVE below(id) AS (
    SELECT id FROM person_groups
    WHERE tenant = :tenant AND kind = :kind AND id IN (SELECT value FROM json_each(:ids))
    UNION
    SELECT g.id FROM person_groups AS g JOIN below ON g.parent_id = below.id
    WHERE g.tenant = :tenant AND g.kind = :kind
)
-- CROSS JOIN keeps below as the outer loop: each group's people by the primary key.
SELECT DISTINCT m.person_id FROM below CROSS JOIN person_group_members AS m
WHERE m.tenant = :tenant AND m.kind = :kind AND m.group_id = below.id

-- name: lock_tree
-- One writer of a tenant's tree at a time: a write transaction (BEGIN IMMEDIATE) holds the
-- file's only write lock already, so this takes nothing more and only names the tree.
SELECT :tenant AS tenant, :kind AS kind
