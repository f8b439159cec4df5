-- Named queries of PostgresStore; parameters are positional ($1...).

-- name: put_people
-- The write functions (migration 0003) run a whole write in one statement: the tenant's
-- counter row is locked only while the server runs it and commits.
SELECT kind, value FROM workhooks_put_people($1, $2, $3::jsonb)

-- name: put_work_interruptions
SELECT kind, value FROM workhooks_put_work_interruptions($1, $2, $3::jsonb, $4::bigint[])

-- name: delete_person
SELECT kind, value FROM workhooks_delete_person($1, $2)

-- name: delete_work_interruption
SELECT id, person_id, date, duration_in_minutes, start_time_in_minutes, end_time_in_minutes,
    change_version, deleted
FROM workhooks_delete_work_interruption($1, $2)

-- name: announce
-- After commit, in a transaction of its own: wake every listening worker for these tenants.
SELECT workhooks_announce($1::text[])

-- name: head_version
SELECT head_version FROM tenants WHERE tenant = $1

-- name: insert_client
INSERT INTO clients (id, tenant, secret_hash, scopes, created_at) VALUES ($1, $2, $3, $4, $5)

-- name: get_client
SELECT id, tenant, secret_hash, scopes, created_at, revoked_at FROM clients WHERE id = $1

-- name: insert_signing_key_if_none
INSERT INTO signing_keys (kid, private_key, created_at)
SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM signing_keys)

-- name: get_signing_key
SELECT kid, private_key, created_at FROM signing_keys ORDER BY created_at, kid LIMIT 1

-- name: get_person_any
SELECT id, badge_number, employee_number, change_version, deleted
FROM people WHERE tenant = $1 AND id = $2

-- name: get_work_interruption_any
SELECT id, person_id, date, duration_in_minutes, start_time_in_minutes, end_time_in_minutes,
    change_version, deleted
FROM work_interruptions WHERE tenant = $1 AND id = $2

-- name: read_changes
SELECT id, person_id, date, duration_in_minutes, start_time_in_minutes, end_time_in_minutes,
    change_version, deleted
FROM work_interruptions
WHERE tenant = $1 AND change_version > $2
ORDER BY change_version
LIMIT $3

-- name: read_changes_many
-- read_changes for several requests at once ($1 tenants, $2 afters, $3 limits, in step).
SELECT q.n AS request, r.* FROM unnest($1::text[], $2::bigint[], $3::integer[])
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

-- name: list_work_interruptions
SELECT id, person_id, date, duration_in_minutes, start_time_in_minutes, end_time_in_minutes,
    change_version, deleted
FROM work_interruptions
WHERE tenant = $1 AND NOT deleted AND date >= $2 AND date <= $3
    AND ($4::bigint[] IS NULL OR person_id = ANY($4::bigint[]))
    AND ($5::date IS NULL OR (date, id) > ($5::date, $6::bigint))
ORDER BY date, id
LIMIT $7

-- name: count_enabled_webhooks
-- Under a transaction-scoped advisory lock on the tenant, so two creates cannot both pass.
SELECT pg_advisory_xact_lock(hashtextextended('webhooks:' || $1, 0)),
    (SELECT count(*) FROM webhooks
     WHERE tenant = $1 AND status = 'Enabled' AND deleted_at IS NULL) AS enabled

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
-- Webhooks with a work interruption to send that may send it now, found in two places only:
-- unsettled tenants whose cursor is below the tenant's head, and webhooks whose retry time
-- has come; both through partial indexes, so idle webhooks are never read. Unsettled
-- tenants are taken in rotation: up to $4 of them with something to claim, in name order
-- after $6 (where this worker's previous search stopped), then from the start; each gives
-- a few times $4 webhooks at most, the most behind first, off the (tenant, cursor, id)
-- index. So a search costs what it returns, not the number of tenants with work. Not held
-- by this worker ($5) nor leased by another live worker; tenants in $7 are left out (this
-- worker holds enough of theirs). Tenants take turns in the answer:
-- each tenant's first webhook comes before any tenant's second. Rows are locked with SKIP
-- LOCKED, so concurrent workers claim disjoint sets without waiting; the lease condition
-- is re-checked on the row as locked, so a row another worker claimed since the snapshot
-- is passed over and the LIMIT is filled from the next ones.
WITH later AS (
    SELECT t.tenant, t.work_interruptions_head, 0 AS lap FROM tenants AS t
    WHERE t.work_interruptions_head > t.settled_head AND t.tenant > $6
        AND t.tenant <> ALL($7::text[])
        AND EXISTS (
            SELECT 1 FROM webhooks AS x
            WHERE x.tenant = t.tenant AND x.status = 'Enabled' AND x.deleted_at IS NULL
                AND x.cursor < t.work_interruptions_head
                AND (x.next_attempt_at IS NULL OR x.next_attempt_at <= $1)
                AND x.valid_until > $1 AND x.id <> ALL($5::text[])
                AND (x.leased_by IS NULL OR x.leased_by = $2 OR x.lease_expires_at < now())
        )
    ORDER BY t.tenant
    LIMIT $4
), earlier AS (
    SELECT t.tenant, t.work_interruptions_head, 1 AS lap FROM tenants AS t
    WHERE t.work_interruptions_head > t.settled_head AND t.tenant <= $6
        AND t.tenant <> ALL($7::text[])
        AND EXISTS (
            SELECT 1 FROM webhooks AS x
            WHERE x.tenant = t.tenant AND x.status = 'Enabled' AND x.deleted_at IS NULL
                AND x.cursor < t.work_interruptions_head
                AND (x.next_attempt_at IS NULL OR x.next_attempt_at <= $1)
                AND x.valid_until > $1 AND x.id <> ALL($5::text[])
                AND (x.leased_by IS NULL OR x.leased_by = $2 OR x.lease_expires_at < now())
        )
    ORDER BY t.tenant
    LIMIT $4
), candidates AS (
    SELECT c.id, c.tenant, c.cursor, t.lap FROM (
        SELECT * FROM later UNION ALL SELECT * FROM earlier
    ) AS t CROSS JOIN LATERAL (
        SELECT x.id, x.tenant, x.cursor FROM webhooks AS x
        WHERE x.tenant = t.tenant AND x.status = 'Enabled' AND x.deleted_at IS NULL
                AND x.cursor < t.work_interruptions_head
                AND (x.next_attempt_at IS NULL OR x.next_attempt_at <= $1)
                AND x.valid_until > $1 AND x.id <> ALL($5::text[])
                AND (x.leased_by IS NULL OR x.leased_by = $2 OR x.lease_expires_at < now())
        ORDER BY x.cursor, x.id
        LIMIT 4 * $4
    ) AS c
    UNION
    SELECT w.id, w.tenant, w.cursor, 0 AS lap FROM webhooks AS w
    JOIN tenants AS t ON t.tenant = w.tenant
    WHERE w.status = 'Enabled' AND w.deleted_at IS NULL AND w.next_attempt_at IS NOT NULL
        AND w.next_attempt_at <= $1 AND w.cursor < t.work_interruptions_head
        AND w.valid_until > $1 AND w.id <> ALL($5::text[]) AND w.tenant <> ALL($7::text[])
        AND (w.leased_by IS NULL OR w.leased_by = $2 OR w.lease_expires_at < now())
), turns AS (
    SELECT c.id, c.lap, c.tenant,
        row_number() OVER (PARTITION BY c.tenant ORDER BY c.cursor, c.id) AS turn
    FROM candidates AS c
), locked AS (
    SELECT w.id FROM turns AS t JOIN webhooks AS w ON w.id = t.id
    WHERE w.leased_by IS NULL OR w.leased_by = $2 OR w.lease_expires_at < now()
    ORDER BY t.turn, t.lap, t.tenant, t.id
    LIMIT $4
    FOR UPDATE OF w SKIP LOCKED
)
UPDATE webhooks AS w SET leased_by = $2, lease_expires_at = now() + make_interval(secs => $3)
FROM locked
WHERE w.id = locked.id
RETURNING w.*

-- name: settle_tenants
-- A tenant is settled when none of its enabled webhooks that may send now is behind its
-- head; webhooks backing off are found through their retry time instead. Tenants being
-- written (their row locked) are skipped; a write committed meanwhile changes the head,
-- and the row is re-checked against it. Settling is a hint (one lost in a crash costs one
-- more search, never a change), so its commit does not wait for the WAL flush
-- (synchronous_commit off for this statement's own transaction): it never keeps a tenant's
-- row, and so the tenant's writers, waiting for a flush.
WITH no_flush_wait AS (SELECT set_config('synchronous_commit', 'off', true) AS setting)
UPDATE tenants AS t SET settled_head = t.work_interruptions_head
WHERE (SELECT setting FROM no_flush_wait) = 'off' AND t.tenant IN (
        SELECT tenant FROM tenants WHERE work_interruptions_head > settled_head
        FOR UPDATE SKIP LOCKED
    )
    AND t.work_interruptions_head > t.settled_head
    AND NOT EXISTS (
        SELECT 1 FROM webhooks AS w
        WHERE w.tenant = t.tenant AND w.status = 'Enabled' AND w.deleted_at IS NULL
            AND w.cursor < t.work_interruptions_head
            AND (w.next_attempt_at IS NULL OR w.next_attempt_at <= $1)
    )

-- name: renew_leases
UPDATE webhooks SET lease_expires_at = now() + make_interval(secs => $3)
WHERE id = ANY($1::text[]) AND leased_by = $2 AND lease_expires_at >= now()
RETURNING id

-- name: release_leases
UPDATE webhooks SET leased_by = NULL, lease_expires_at = NULL WHERE leased_by = $1

-- name: release_some_leases
UPDATE webhooks SET leased_by = NULL, lease_expires_at = NULL
WHERE id = ANY($1::text[]) AND leased_by = $2

-- name: disable_expired
UPDATE webhooks SET status = 'Disabled', disabled_reason = 'expired'
WHERE status = 'Enabled' AND valid_until <= $1

-- name: apply_windows
-- One statement for many windows, so one round trip and atomic without BEGIN/COMMIT: move
-- each cursor (compare-and-set, lease holder only) and give the lease back unless the
-- worker keeps it for the webhook's next window; unsettle the tenant of a webhook that
-- leaves back-off still behind; then, only for the rows that moved, insert the windows'
-- attempts and upsert their summary rows. $1: the outcomes, $4: the attempts (JSON arrays),
-- $5: the webhook ids (so the planner reads them through the primary key).
WITH outcome AS (
    SELECT x.* FROM jsonb_to_recordset($1::jsonb) AS x(webhook_id text, tenant text,
        expected_cursor bigint, cursor bigint, failures integer,
        next_attempt_at timestamptz, disabled_reason text, caught_up_at timestamptz,
        keep_lease boolean)
), moved AS (
    UPDATE webhooks AS w SET cursor = o.cursor, failures = o.failures,
        next_attempt_at = o.next_attempt_at,
        leased_by = CASE WHEN o.keep_lease AND o.disabled_reason IS NULL
            AND w.status = 'Enabled' AND w.deleted_at IS NULL THEN $2 END,
        lease_expires_at = CASE WHEN o.keep_lease AND o.disabled_reason IS NULL
            AND w.status = 'Enabled' AND w.deleted_at IS NULL
            THEN now() + make_interval(secs => $3) END,
        status = CASE WHEN o.disabled_reason IS NULL THEN w.status ELSE 'Disabled' END,
        disabled_reason = COALESCE(o.disabled_reason, w.disabled_reason),
        caught_up_at = COALESCE(o.caught_up_at, w.caught_up_at)
    FROM outcome AS o
    WHERE w.id = ANY($5::text[]) AND w.id = o.webhook_id AND w.cursor = o.expected_cursor
        AND (w.leased_by IS NULL OR w.leased_by = $2)
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
    SELECT x.* FROM jsonb_to_recordset($4::jsonb) AS x(webhook_id text, message_id text,
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

-- name: webhooks_by_status
SELECT status, count(*) AS count FROM webhooks WHERE deleted_at IS NULL GROUP BY status

-- name: webhooks_behind
-- Enabled webhooks behind their tenant's head or failing, the longest behind first: only
-- unsettled tenants' webhooks and webhooks with a retry time can be, so the others are
-- never read. Every row also carries how many there are of each.
WITH found AS (
    SELECT w.id FROM tenants AS t JOIN webhooks AS w ON w.tenant = t.tenant
    WHERE t.work_interruptions_head > t.settled_head
        AND w.status = 'Enabled' AND w.deleted_at IS NULL
        AND w.cursor < t.work_interruptions_head
    UNION
    SELECT w.id FROM webhooks AS w
    WHERE w.status = 'Enabled' AND w.deleted_at IS NULL AND w.next_attempt_at IS NOT NULL
), measured AS (
    SELECT w.id, w.tenant, w.created_at, w.caught_up_at, w.failures,
        greatest(t.work_interruptions_head - w.cursor, 0) AS changes_behind
    FROM found AS f JOIN webhooks AS w ON w.id = f.id JOIN tenants AS t ON t.tenant = w.tenant
)
SELECT *,
    count(*) FILTER (WHERE changes_behind > 0) OVER () AS behind,
    count(*) FILTER (WHERE failures > 0) OVER () AS failing
FROM measured
ORDER BY COALESCE(caught_up_at, created_at), id
LIMIT greatest($1, 1)

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

-- name: list_clients
SELECT id, tenant, secret_hash, scopes, created_at, revoked_at FROM clients
WHERE $1::text IS NULL OR tenant = $1
ORDER BY tenant, created_at, id

-- name: revoke_client
UPDATE clients SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1
RETURNING id, tenant, secret_hash, scopes, created_at, revoked_at

-- name: set_client_secret
UPDATE clients SET secret_hash = $2 WHERE id = $1 AND revoked_at IS NULL
RETURNING id, tenant, secret_hash, scopes, created_at, revoked_at

-- name: insert_signing_key
INSERT INTO signing_keys (kid, private_key, created_at) VALUES ($1, $2, $3)

-- name: list_signing_keys
SELECT kid, private_key, created_at FROM signing_keys ORDER BY created_at, kid

-- name: set_signing_key_seal
UPDATE signing_keys SET private_key = $2 WHERE kid = $1

-- name: webhook_secret_prefixes
SELECT DISTINCT substring(secret FROM 1 FOR $1) AS prefix FROM webhooks

-- name: webhook_secrets_not_starting
SELECT id, secret FROM webhooks WHERE substring(secret FROM 1 FOR length($1::bytea)) <> $1::bytea

-- name: set_webhook_secrets
UPDATE webhooks SET secret = u.secret
FROM unnest($1::text[], $2::bytea[]) AS u(id, secret)
WHERE webhooks.id = u.id
