-- Named queries of PostgresStore; parameters are positional ($1...).

-- name: lock_versions
-- Taken first in every writing transaction: the tenant's counter row stays locked until
-- commit, so one tenant's versions are handed out and committed in the same order.
-- The wake-up notification rides along (PostgreSQL delivers it at commit): one round trip.
WITH head AS (
    INSERT INTO tenants (tenant, head_version) VALUES ($1, $2)
    ON CONFLICT (tenant) DO UPDATE SET head_version = tenants.head_version + $2
    RETURNING head_version
)
SELECT head_version, pg_notify('workhooks_changes', $1::text) FROM head

-- name: head_version
SELECT head_version FROM tenants WHERE tenant = $1

-- name: insert_client
INSERT INTO clients (id, tenant, secret_hash, scopes, created_at) VALUES ($1, $2, $3, $4, $5)

-- name: get_client
SELECT id, tenant, secret_hash, scopes, created_at FROM clients WHERE id = $1

-- name: insert_signing_key_if_none
INSERT INTO signing_keys (kid, private_key, created_at)
SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM signing_keys)

-- name: get_signing_key
SELECT kid, private_key, created_at FROM signing_keys ORDER BY created_at, kid LIMIT 1

-- name: get_person_any
SELECT id, badge_number, employee_number, change_version, deleted
FROM people WHERE tenant = $1 AND id = $2

-- name: live_people
SELECT id FROM people WHERE tenant = $1 AND id = ANY($2::bigint[]) AND NOT deleted

-- name: upsert_people
INSERT INTO people (tenant, id, badge_number, employee_number, change_version, deleted)
SELECT $1, x.id, x.badge_number, x.employee_number, x.change_version, false
FROM jsonb_to_recordset($2::jsonb)
    AS x(id bigint, badge_number text, employee_number text, change_version bigint)
ON CONFLICT (tenant, id) DO UPDATE SET
    badge_number = excluded.badge_number,
    employee_number = excluded.employee_number,
    change_version = excluded.change_version,
    deleted = false


-- name: tombstone_person
UPDATE people SET badge_number = NULL, employee_number = NULL, change_version = $3, deleted = true
WHERE tenant = $1 AND id = $2

-- name: delete_person_references
DELETE FROM person_references WHERE tenant = $1 AND person_id = $2

-- name: person_in_use
SELECT 1 FROM work_interruptions WHERE tenant = $1 AND person_id = $2 AND NOT deleted LIMIT 1

-- name: get_work_interruption_any
SELECT id, person_id, date, duration_in_minutes, start_time_in_minutes, end_time_in_minutes,
    change_version, deleted
FROM work_interruptions WHERE tenant = $1 AND id = $2

-- name: upsert_work_interruptions
-- Right after lock_versions, one round trip: which of the batch's people ($3) are missing,
-- which of its records ($4) were live before (updated rather than created), and, only when
-- no person is missing, the upsert. Its snapshot is taken after the tenant's lock was
-- granted, so it sees every earlier writer of the tenant (and a person deleted before us).
WITH missing AS (
    SELECT p.id FROM unnest($3::bigint[]) AS p(id)
    WHERE NOT EXISTS (
        SELECT 1 FROM people AS q WHERE q.tenant = $1 AND q.id = p.id AND NOT q.deleted
    )
), live AS (
    SELECT w.id FROM work_interruptions AS w
    WHERE w.tenant = $1 AND w.id = ANY($4::bigint[]) AND NOT w.deleted
), written AS (
    INSERT INTO work_interruptions (tenant, id, person_id, date, duration_in_minutes,
        start_time_in_minutes, end_time_in_minutes, change_version, deleted)
    SELECT $1, x.id, x.person_id, x.date, x.duration_in_minutes, x.start_time_in_minutes,
        x.end_time_in_minutes, x.change_version, false
    FROM jsonb_to_recordset($2::jsonb) AS x(id bigint, person_id bigint, date date,
        duration_in_minutes integer, start_time_in_minutes integer, end_time_in_minutes integer,
        change_version bigint)
    WHERE NOT EXISTS (SELECT 1 FROM missing)
    ON CONFLICT (tenant, id) DO UPDATE SET
        person_id = excluded.person_id,
        date = excluded.date,
        duration_in_minutes = excluded.duration_in_minutes,
        start_time_in_minutes = excluded.start_time_in_minutes,
        end_time_in_minutes = excluded.end_time_in_minutes,
        change_version = excluded.change_version,
        deleted = false
)
SELECT 'missing' AS kind, id FROM missing
UNION ALL
SELECT 'live' AS kind, id FROM live

-- name: tombstone_work_interruption
UPDATE work_interruptions SET change_version = $3, deleted = true
WHERE tenant = $1 AND id = $2
RETURNING id, person_id, date, duration_in_minutes, start_time_in_minutes, end_time_in_minutes,
    change_version, deleted

-- name: read_changes
SELECT id, person_id, date, duration_in_minutes, start_time_in_minutes, end_time_in_minutes,
    change_version, deleted
FROM work_interruptions
WHERE tenant = $1 AND change_version > $2
ORDER BY change_version
LIMIT $3

-- name: list_work_interruptions
SELECT id, person_id, date, duration_in_minutes, start_time_in_minutes, end_time_in_minutes,
    change_version, deleted
FROM work_interruptions
WHERE tenant = $1 AND NOT deleted AND date >= $2 AND date <= $3
    AND ($4::bigint[] IS NULL OR person_id = ANY($4::bigint[]))
    AND ($5::date IS NULL OR (date, id) > ($5::date, $6::bigint))
ORDER BY date, id
LIMIT $7

-- name: insert_webhook
INSERT INTO webhooks (id, tenant, destination_url, collection, secret, status, created_at,
    valid_until, cursor, external_references)
VALUES ($1, $2, $3, $4, $5, 'Enabled', $6, $7,
    COALESCE((SELECT head_version FROM tenants WHERE tenant = $2), 0), $8)
RETURNING *

-- name: get_webhook
SELECT * FROM webhooks WHERE tenant = $1 AND id = $2

-- name: list_webhooks
SELECT * FROM webhooks WHERE tenant = $1 AND deleted_at IS NULL ORDER BY created_at, id

-- name: delete_webhook
UPDATE webhooks SET deleted_at = $3 WHERE tenant = $1 AND id = $2 AND deleted_at IS NULL

-- name: claim_due_webhooks
-- Due webhooks not leased by another live worker: claim them (or renew our own lease).
-- SKIP LOCKED lets concurrent workers claim disjoint sets without waiting on each other.
UPDATE webhooks AS w SET leased_by = $2, lease_expires_at = now() + make_interval(secs => $3)
WHERE w.id IN (
    SELECT d.id FROM webhooks AS d
    WHERE d.status = 'Enabled' AND d.deleted_at IS NULL AND d.valid_until > $1
        AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= $1)
        AND (d.leased_by IS NULL OR d.leased_by = $2 OR d.lease_expires_at < now())
        AND d.cursor < (
            SELECT max(r.change_version) FROM work_interruptions AS r WHERE r.tenant = d.tenant
        )
    ORDER BY COALESCE(d.next_attempt_at, d.created_at), d.id
    LIMIT $4
    FOR UPDATE SKIP LOCKED
)
RETURNING w.*

-- name: renew_leases
UPDATE webhooks SET lease_expires_at = now() + make_interval(secs => $3)
WHERE id = ANY($1::text[]) AND leased_by = $2 AND lease_expires_at >= now()
RETURNING id

-- name: release_leases
UPDATE webhooks SET leased_by = NULL, lease_expires_at = NULL WHERE leased_by = $1

-- name: disable_expired
UPDATE webhooks SET status = 'Disabled', disabled_reason = 'expired'
WHERE status = 'Enabled' AND valid_until <= $1

-- name: apply_window
-- One statement, so one round trip and atomic without BEGIN/COMMIT: move the cursor
-- (compare-and-set, lease holder only) and give the lease back, then, only if that row
-- moved, insert the window's attempts ($9, a JSON array) and upsert their summary rows.
-- Giving the lease back means the next window of this webhook needs a fresh claim, which
-- any worker may win, so the work spreads across workers.
WITH moved AS (
    UPDATE webhooks SET cursor = $3, failures = $4, next_attempt_at = $5,
        leased_by = NULL, lease_expires_at = NULL,
        status = CASE WHEN $6::text IS NULL THEN status ELSE 'Disabled' END,
        disabled_reason = COALESCE($6::text, disabled_reason),
        caught_up_at = COALESCE($7, caught_up_at)
    WHERE id = $1 AND cursor = $2 AND (leased_by IS NULL OR leased_by = $8)
    RETURNING id
), batch AS (
    SELECT x.* FROM jsonb_to_recordset($9::jsonb) AS x(webhook_id text, message_id text,
        record_id bigint, change_version bigint, attempted_at timestamptz, succeeded boolean,
        status_code integer, latency_ms double precision, error_class text,
        response_excerpt text, next_attempt_at timestamptz)
    WHERE EXISTS (SELECT 1 FROM moved)
), attempts AS (
    INSERT INTO delivery_attempts (webhook_id, message_id, record_id, change_version,
        attempted_at, succeeded, status_code, latency_ms, error_class, response_excerpt,
        next_attempt_at)
    SELECT webhook_id, message_id, record_id, change_version, attempted_at, succeeded,
        status_code, latency_ms, error_class, response_excerpt, next_attempt_at
    FROM batch
), summaries AS (
    INSERT INTO deliveries (webhook_id, message_id, record_id, change_version, status,
        attempts, first_attempt_at, last_attempt_at, last_status_code, last_error_class,
        next_attempt_at)
    SELECT webhook_id, message_id, record_id, change_version,
        CASE WHEN succeeded THEN 'Succeeded' ELSE 'Failed' END, 1, attempted_at,
        attempted_at, status_code, error_class, next_attempt_at
    FROM batch
    ON CONFLICT (webhook_id, message_id) DO UPDATE SET
        status = excluded.status,
        attempts = deliveries.attempts + 1,
        last_attempt_at = excluded.last_attempt_at,
        last_status_code = excluded.last_status_code,
        last_error_class = excluded.last_error_class,
        next_attempt_at = excluded.next_attempt_at
)
SELECT EXISTS (SELECT 1 FROM moved) AS applied

-- name: list_attempts
SELECT * FROM delivery_attempts WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2

-- name: list_deliveries
SELECT * FROM deliveries
WHERE webhook_id = $1
    AND ($2::text[] IS NULL OR status = ANY($2::text[]))
    AND ($3::timestamptz IS NULL OR last_attempt_at >= $3)
    AND ($4::timestamptz IS NULL OR last_attempt_at <= $4)
    AND ($5::timestamptz IS NULL OR (last_attempt_at, message_id) < ($5::timestamptz, $6::text))
ORDER BY last_attempt_at DESC, message_id DESC
LIMIT $7

-- name: get_delivery
SELECT * FROM deliveries WHERE webhook_id = $1 AND message_id = $2

-- name: delivery_attempts
SELECT * FROM delivery_attempts WHERE webhook_id = $1 AND message_id = $2 ORDER BY id

-- name: purge_attempts
DELETE FROM delivery_attempts WHERE attempted_at < $1

-- name: purge_deliveries
DELETE FROM deliveries WHERE last_attempt_at < $1

-- name: webhook_backlogs
SELECT w.id, w.tenant, w.status, w.created_at, w.caught_up_at,
    (SELECT count(*) FROM work_interruptions AS r
     WHERE r.tenant = w.tenant AND r.change_version > w.cursor) AS changes_behind
FROM webhooks AS w
WHERE w.deleted_at IS NULL
ORDER BY w.tenant, w.id

-- name: predefined_references
SELECT id, badge_number, employee_number FROM people
WHERE tenant = $1 AND NOT deleted AND id = ANY($2::bigint[])

-- name: custom_references
SELECT person_id, key, value FROM person_references
WHERE tenant = $1 AND person_id = ANY($2::bigint[]) AND key = ANY($3::text[])

-- name: person_custom_references
SELECT key, value FROM person_references WHERE tenant = $1 AND person_id = $2 ORDER BY key

-- name: reference_owner
SELECT person_id FROM person_references WHERE tenant = $1 AND key = $2 AND value = $3

-- name: upsert_person_reference
INSERT INTO person_references (tenant, person_id, key, value) VALUES ($1, $2, $3, $4)
ON CONFLICT (tenant, person_id, key) DO UPDATE SET value = excluded.value

-- name: delete_person_reference
DELETE FROM person_references WHERE tenant = $1 AND person_id = $2 AND key = $3
