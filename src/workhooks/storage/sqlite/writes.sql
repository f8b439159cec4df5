-- SQLite's own write steps: one writer, so a write reserves its versions and then
-- writes its rows, all in one transaction.

-- name: next_version
-- Reserve :count versions; a write of work interruptions (:work) also raises the tenant's
-- work_interruptions_head, which unsettles the tenant (see due_webhooks).
INSERT INTO tenants (tenant, head_version, work_interruptions_head)
VALUES (:tenant, :count, CASE WHEN :work THEN :count ELSE 0 END)
ON CONFLICT (tenant) DO UPDATE SET
    head_version = head_version + :count,
    work_interruptions_head = CASE WHEN :work THEN head_version + :count
        ELSE work_interruptions_head END
RETURNING head_version

-- name: upsert_person
-- Write a person at its version, live.
INSERT INTO people (tenant, id, badge_number, employee_number, change_version, deleted)
VALUES (:tenant, :id, :badge_number, :employee_number, :change_version, 0)
ON CONFLICT (tenant, id) DO UPDATE SET
    badge_number = excluded.badge_number,
    employee_number = excluded.employee_number,
    change_version = excluded.change_version,
    deleted = 0

-- name: tombstone_person
-- Leave a person's tombstone: its numbers cleared, at the delete's version.
UPDATE people SET badge_number = NULL, employee_number = NULL,
    change_version = :change_version, deleted = 1
WHERE tenant = :tenant AND id = :id

-- name: delete_person_references
-- Forget a deleted person's custom references.
DELETE FROM person_references WHERE tenant = :tenant AND person_id = :id

-- name: person_in_use
-- Whether live work interruptions still refer to the person.
SELECT 1 FROM work_interruptions
WHERE tenant = :tenant AND person_id = :id AND deleted = 0 LIMIT 1

-- name: upsert_work_interruption
-- Write a work interruption at its version, live.
INSERT INTO work_interruptions (tenant, id, person_id, date, duration_in_minutes,
    start_time_in_minutes, end_time_in_minutes, change_version, deleted)
VALUES (:tenant, :id, :person_id, :date, :duration_in_minutes,
    :start_time_in_minutes, :end_time_in_minutes, :change_version, 0)
ON CONFLICT (tenant, id) DO UPDATE SET
    person_id = excluded.person_id,
    date = excluded.date,
    duration_in_minutes = excluded.duration_in_minutes,
    start_time_in_minutes = excluded.start_time_in_minutes,
    end_time_in_minutes = excluded.end_time_in_minutes,
    change_version = excluded.change_version,
    deleted = 0

-- name: tombstone_work_interruption
-- Mark a work interruption deleted at the delete's version.
UPDATE work_interruptions SET change_version = :change_version, deleted = 1
WHERE tenant = :tenant AND id = :id

-- name: live_people
-- Which of the people :ids (a JSON array) are live.
SELECT id FROM people
WHERE tenant = :tenant AND deleted = 0 AND id IN (SELECT value FROM json_each(:ids))

-- name: live_work_interruptions
-- Which of the work interruptions :ids (a JSON array) are live.
SELECT id FROM work_interruptions
WHERE tenant = :tenant AND deleted = 0 AND id IN (SELECT value FROM json_each(:ids))
