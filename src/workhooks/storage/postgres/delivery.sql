-- PostgreSQL's own delivery statements: any number of workers, each webhook leased by one.

-- name: claim_due_webhooks
-- Webhooks with a work interruption to send that may send it now, found in two places only:
-- unsettled tenants whose cursor is below the tenant's head, and webhooks whose retry time
-- has come; both through partial indexes, so idle webhooks are never read. Unsettled
-- tenants are taken in rotation: up to :limit of them with something to claim, in name order
-- after :after (where this worker's previous search stopped), then from the start; each gives
-- a few times :limit webhooks at most, the most behind first, off the (tenant, cursor, id)
-- index. So a search costs what it returns, not the number of tenants with work. Not held
-- by this worker (:holding) nor leased by another live worker; tenants in :full are left
-- out (this worker holds enough of theirs). Tenants take turns in the answer: each
-- tenant's first webhook comes before any tenant's second. Rows are locked with SKIP
-- LOCKED, so concurrent workers claim disjoint sets without waiting; the lease condition
-- is re-checked on the row as locked, so a row another worker claimed since the snapshot
-- is passed over and the LIMIT is filled from the next ones.
WITH later AS (
    SELECT t.tenant, t.work_interruptions_head, 0 AS lap FROM tenants AS t
    WHERE t.work_interruptions_head > t.settled_head AND t.tenant > :after
        AND t.tenant <> ALL(:full::text[])
        AND EXISTS (
            SELECT 1 FROM webhooks AS x
            WHERE x.tenant = t.tenant AND x.status = 'Enabled' AND x.deleted_at IS NULL
                AND x.cursor < t.work_interruptions_head
                AND (x.next_attempt_at IS NULL OR x.next_attempt_at <= :now)
                AND x.valid_until > :now AND x.id <> ALL(:holding::text[])
                AND (x.leased_by IS NULL OR x.leased_by = :worker OR x.lease_expires_at < now())
        )
    ORDER BY t.tenant
    LIMIT :limit
), earlier AS (
    SELECT t.tenant, t.work_interruptions_head, 1 AS lap FROM tenants AS t
    WHERE t.work_interruptions_head > t.settled_head AND t.tenant <= :after
        AND t.tenant <> ALL(:full::text[])
        AND EXISTS (
            SELECT 1 FROM webhooks AS x
            WHERE x.tenant = t.tenant AND x.status = 'Enabled' AND x.deleted_at IS NULL
                AND x.cursor < t.work_interruptions_head
                AND (x.next_attempt_at IS NULL OR x.next_attempt_at <= :now)
                AND x.valid_until > :now AND x.id <> ALL(:holding::text[])
                AND (x.leased_by IS NULL OR x.leased_by = :worker OR x.lease_expires_at < now())
        )
    ORDER BY t.tenant
    LIMIT :limit
), candidates AS (
    SELECT c.id, c.tenant, c.cursor, t.lap FROM (
        SELECT * FROM later UNION ALL SELECT * FROM earlier
    ) AS t CROSS JOIN LATERAL (
        SELECT x.id, x.tenant, x.cursor FROM webhooks AS x
        WHERE x.tenant = t.tenant AND x.status = 'Enabled' AND x.deleted_at IS NULL
                AND x.cursor < t.work_interruptions_head
                AND (x.next_attempt_at IS NULL OR x.next_attempt_at <= :now)
                AND x.valid_until > :now AND x.id <> ALL(:holding::text[])
                AND (x.leased_by IS NULL OR x.leased_by = :worker OR x.lease_expires_at < now())
        ORDER BY x.cursor, x.id
        LIMIT 4 * :limit
    ) AS c
    UNION
    SELECT w.id, w.tenant, w.cursor, 0 AS lap FROM webhooks AS w
    JOIN tenants AS t ON t.tenant = w.tenant
    WHERE w.status = 'Enabled' AND w.deleted_at IS NULL AND w.next_attempt_at IS NOT NULL
        AND w.next_attempt_at <= :now AND w.cursor < t.work_interruptions_head
        AND w.valid_until > :now AND w.id <> ALL(:holding::text[])
        AND w.tenant <> ALL(:full::text[])
        AND (w.leased_by IS NULL OR w.leased_by = :worker OR w.lease_expires_at < now())
), turns AS (
    SELECT c.id, c.lap, c.tenant,
        row_number() OVER (PARTITION BY c.tenant ORDER BY c.cursor, c.id) AS turn
    FROM candidates AS c
), locked AS (
    SELECT w.id FROM turns AS t JOIN webhooks AS w ON w.id = t.id
    WHERE w.leased_by IS NULL OR w.leased_by = :worker OR w.lease_expires_at < now()
    ORDER BY t.turn, t.lap, t.tenant, t.id
    LIMIT :limit
    FOR UPDATE OF w SKIP LOCKED
)
UPDATE webhooks AS w
SET leased_by = :worker, lease_expires_at = now() + make_interval(secs => :lease_seconds)
FROM locked
WHERE w.id = locked.id
RETURNING w.*

-- name: renew_leases
-- Extend this worker's leases on :ids; the ids it still holds.
UPDATE webhooks SET lease_expires_at = now() + make_interval(secs => :lease_seconds)
WHERE id = ANY(:ids::text[]) AND leased_by = :worker AND lease_expires_at >= now()
RETURNING id

-- name: release_leases
-- Give back every lease of this worker (when it stops).
UPDATE webhooks SET leased_by = NULL, lease_expires_at = NULL WHERE leased_by = :worker

-- name: release_some_leases
-- Give back this worker's leases on :ids.
UPDATE webhooks SET leased_by = NULL, lease_expires_at = NULL
WHERE id = ANY(:ids::text[]) AND leased_by = :worker

-- name: apply_windows
-- One statement for many windows, so one round trip and atomic without BEGIN/COMMIT: move
-- each cursor (compare-and-set, lease holder only) and give the lease back unless the
-- worker keeps it for the webhook's next window; unsettle the tenant of a webhook that
-- leaves back-off still behind; then, only for the rows that moved, insert the windows'
-- attempts and upsert their summary rows. :outcomes and :attempts are JSON arrays; :ids
-- are the webhook ids (so the planner reads them through the primary key).
WITH outcome AS (
    SELECT x.* FROM jsonb_to_recordset(:outcomes::jsonb) AS x(webhook_id text, tenant text,
        expected_cursor bigint, cursor bigint, failures integer,
        next_attempt_at timestamptz, disabled_reason text, caught_up_at timestamptz,
        keep_lease boolean)
), moved AS (
    UPDATE webhooks AS w SET cursor = o.cursor, failures = o.failures,
        next_attempt_at = o.next_attempt_at,
        leased_by = CASE WHEN o.keep_lease AND o.disabled_reason IS NULL
            AND w.status = 'Enabled' AND w.deleted_at IS NULL THEN :worker END,
        lease_expires_at = CASE WHEN o.keep_lease AND o.disabled_reason IS NULL
            AND w.status = 'Enabled' AND w.deleted_at IS NULL
            THEN now() + make_interval(secs => :lease_seconds) END,
        status = CASE WHEN o.disabled_reason IS NULL THEN w.status ELSE 'Disabled' END,
        disabled_reason = COALESCE(o.disabled_reason, w.disabled_reason),
        caught_up_at = COALESCE(o.caught_up_at, w.caught_up_at)
    FROM outcome AS o
    WHERE w.id = ANY(:ids::text[]) AND w.id = o.webhook_id AND w.cursor = o.expected_cursor
        AND (w.leased_by IS NULL OR w.leased_by = :worker)
    RETURNING w.id, o.tenant, o.cursor, o.next_attempt_at, o.disabled_reason,
        w.status = 'Enabled' AND w.deleted_at IS NULL AS active
), unsettled AS (
    UPDATE tenants AS t SET settled_head = m.cursor
    FROM (
        SELECT tenant, min(cursor) AS cursor FROM moved
        WHERE next_attempt_at IS NULL AND disabled_reason IS NULL GROUP BY tenant
    ) AS m
    WHERE t.tenant = m.tenant AND t.settled_head > m.cursor
        AND t.work_interruptions_head > m.cursor
), batch AS (
    SELECT x.* FROM jsonb_to_recordset(:attempts::jsonb) AS x(webhook_id text, message_id text,
        record_id bigint, change_version bigint, attempted_at timestamptz, succeeded boolean,
        status_code integer, latency_ms double precision, error_class text,
        response_excerpt text, next_attempt_at timestamptz)
    WHERE x.webhook_id IN (SELECT id FROM moved)
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
SELECT id, active FROM moved

-- name: read_changes_many
-- read_changes for several requests at once (:tenants, :afters and :limits, in step).
SELECT q.n AS request, r.* FROM unnest(:tenants::text[], :afters::bigint[], :limits::integer[])
    WITH ORDINALITY AS q(tenant, after, size, n)
CROSS JOIN LATERAL (
    SELECT id, person_id, date, duration_in_minutes, start_time_in_minutes,
        end_time_in_minutes, change_version, deleted
    FROM work_interruptions
    WHERE tenant = q.tenant AND change_version > q.after
    ORDER BY change_version
    LIMIT q.size
) AS r
ORDER BY q.n, r.change_version
