-- The named queries every SQL store has that PostgreSQL writes its own way, alike in name and
-- parameters in both (see sqlite/queries.sql); those written alike are in ../shared.sql
-- (tests/unit/test_query_vocabulary.py holds them together).

-- name: read_changes
-- The work interruptions (tombstones included) changed after :after, in version order: one range of
-- the (tenant, change_version) index.
SELECT id, person_id, date, duration_in_minutes, start_time_in_minutes, end_time_in_minutes,
    change_version, deleted
FROM work_interruptions
WHERE tenant = :tenant AND change_version > :after
ORDER BY change_version
LIMIT :limit

-- name: insert_webhook
-- Store a webhook enabled, its cursor at the tenant's head version.
INSERT INTO webhooks (id, tenant, destination_url, collection, secret, status, created_at,
    valid_until, cursor, external_references)
VALUES (:id, :tenant, :destination_url, :collection, :secret, 'Enabled', :created_at, :valid_until,
    COALESCE((SELECT head_version FROM tenants WHERE tenant = :tenant), 0), :external_references)
RETURNING *

-- name: delete_webhook
-- Soft-delete a webhook that is not deleted yet.
UPDATE webhooks SET deleted_at = :at WHERE tenant = :tenant AND id = :id AND deleted_at IS NULL

-- name: count_enabled_webhooks
-- Under a transaction-scoped advisory lock on the tenant, so two creates cannot both pass.
SELECT pg_advisory_xact_lock(hashtextextended('webhooks:' || :tenant, 0)),
    (SELECT count(*) FROM webhooks
     WHERE tenant = :tenant AND status = 'Enabled' AND deleted_at IS NULL) AS enabled

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
            AND (w.next_attempt_at IS NULL OR w.next_attempt_at <= :now)
    )

-- name: disable_expired
-- Disable the enabled webhooks whose validity has passed.
UPDATE webhooks SET status = 'Disabled', disabled_reason = 'expired'
WHERE status = 'Enabled' AND valid_until <= :now

-- name: list_deliveries
-- A webhook's deliveries matching the filters, newest last attempt first, keyset-paged on
-- (last_attempt_at, message_id) after (:after_at, :after_id).
SELECT * FROM deliveries
WHERE webhook_id = :webhook_id
    AND (:statuses::text[] IS NULL OR status = ANY(:statuses::text[]))
    AND (:since::timestamptz IS NULL OR last_attempt_at >= :since)
    AND (:until::timestamptz IS NULL OR last_attempt_at <= :until)
    AND (:after_at::timestamptz IS NULL
        OR (last_attempt_at, message_id) < (:after_at::timestamptz, :after_id::text))
ORDER BY last_attempt_at DESC, message_id DESC
LIMIT :limit

-- name: webhooks_by_status
-- How many webhooks that are not deleted have each status.
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
LIMIT greatest(:limit, 1)

-- name: list_work_interruptions
-- One keyset page of live work interruptions in (date, id) order, over the (tenant, date, id)
-- index; :persons (a list) narrows to some people.
SELECT id, person_id, date, duration_in_minutes, start_time_in_minutes, end_time_in_minutes,
    change_version, deleted
FROM work_interruptions
WHERE tenant = :tenant AND NOT deleted AND date >= :date_from AND date <= :date_to
    AND (:persons::bigint[] IS NULL OR person_id = ANY(:persons::bigint[]))
    AND (:after_date::date IS NULL OR (date, id) > (:after_date::date, :after_id::bigint))
ORDER BY date, id
LIMIT :limit

-- name: predefined_references
-- The live people's own numbers (the @ references).
SELECT id, badge_number, employee_number FROM people
WHERE tenant = :tenant AND NOT deleted AND id = ANY(:ids::bigint[])

-- name: custom_references
-- The people's custom references of the keys asked for.
SELECT person_id, key, value FROM person_references
WHERE tenant = :tenant AND person_id = ANY(:ids::bigint[]) AND key = ANY(:keys::text[])

-- name: list_clients
-- The clients of :tenant (of every tenant when NULL), revoked ones included.
SELECT id, tenant, secret_hash, scopes, created_at, revoked_at FROM clients
WHERE :tenant::text IS NULL OR tenant = :tenant
ORDER BY tenant, created_at, id

-- name: webhook_secret_prefixes
-- The distinct seal prefixes of the webhook secrets (which master keys they need).
SELECT DISTINCT substring(secret FROM 1 FOR :size) AS prefix FROM webhooks

-- name: webhook_secrets_not_starting
-- The webhook secrets not sealed with :prefix.
SELECT id, secret FROM webhooks
WHERE substring(secret FROM 1 FOR length(:prefix::bytea)) <> :prefix::bytea
