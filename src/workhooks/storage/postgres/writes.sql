-- PostgreSQL's own writes: each is one statement, a function of migration 0003 that locks
-- its tenant's counter row until its commit, so versions commit in order.

-- name: put_people
-- The write functions (migration 0003) run a whole write in one statement: the tenant's
-- counter row is locked only while the server runs it and commits.
SELECT kind, value FROM workhooks_put_people(:tenant, :count, :people::jsonb)

-- name: put_work_interruptions
-- Check the people :persons exist and write the records (JSON :records) at consecutive
-- versions: one statement, all or nothing (see put_people).
SELECT kind, value
FROM workhooks_put_work_interruptions(:tenant, :count, :records::jsonb, :persons::bigint[])

-- name: delete_person
-- Tombstone a person no live work interruption refers to: one statement.
SELECT kind, value FROM workhooks_delete_person(:tenant, :id)

-- name: delete_work_interruption
-- Tombstone a live work interruption: one statement; the tombstone's row.
SELECT id, person_id, date, duration_in_minutes, start_time_in_minutes, end_time_in_minutes,
    change_version, deleted
FROM workhooks_delete_work_interruption(:tenant, :id)

-- name: announce
-- After commit, in a transaction of its own: wake every listening worker for these tenants.
SELECT workhooks_announce(:tenants::text[])
