-- The named queries every SQL store has that SQLite writes its own way, alike in name and
-- parameters in both (see postgres/queries.sql); those written alike are in ../shared.sql
-- (tests/unit/test_query_vocabulary.py holds them together).

-- name: read_changes
-- The work interruptions (tombstones included) changed after :after, in version order:
-- one range of the (tenant, change_version) index.
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
VALUES (:id, :tenant, :destination_url, :collection, :secret, 'Enabled', :created_at,
    :valid_until, COALESCE((SELECT head_version FROM tenants WHERE tenant = :tenant), 0),
    :external_references)
RETURNING *

-- name: delete_webhook
-- Soft-delete a webhook that is not deleted yet.
UPDATE webhooks SET deleted_at = :at
WHERE tenant = :tenant AND id = :id AND deleted_at IS NULL

-- name: count_enabled_webhooks
-- How many enabled webhooks the tenant has that are not deleted.
SELECT COUNT(*) AS enabled FROM webhooks
WHERE tenant = :tenant AND status = 'Enabled' AND deleted_at IS NULL

-- name: settle_tenants
-- A tenant is settled when none of its enabled webhooks that may send now is behind its
-- head; webhooks backing off are found through their retry time instead.
UPDATE tenants SET settled_head = work_interruptions_head
WHERE work_interruptions_head > settled_head
    AND NOT EXISTS (
        SELECT 1 FROM webhooks AS w
        WHERE w.tenant = tenants.tenant AND w.status = 'Enabled' AND w.deleted_at IS NULL
            AND w.cursor < tenants.work_interruptions_head
            AND (w.next_attempt_at IS NULL OR w.next_attempt_at <= :now)
    )

-- name: disable_expired
-- Through the partial expiry index (the planner would otherwise read every enabled webhook).
UPDATE webhooks INDEXED BY webhooks_expiry SET status = 'Disabled', disabled_reason = 'expired'
WHERE status = 'Enabled' AND valid_until <= :now

-- name: list_deliveries
-- A webhook's deliveries matching the filters, newest last attempt first, keyset-paged
-- on (last_attempt_at, message_id) after (:after_at, :after_id).
SELECT * FROM deliveries
WHERE webhook_id = :webhook_id
    AND (:statuses IS NULL OR status IN (SELECT value FROM json_each(:statuses)))
    AND (:since IS NULL OR last_attempt_at >= :since)
    AND (:until IS NULL OR last_attempt_at <= :until)
    AND (:after_at IS NULL OR (last_attempt_at, message_id) < (:after_at, :after_id))
ORDER BY last_attempt_at DESC, message_id DESC
LIMIT :limit

-- name: webhooks_by_status
-- How many webhooks that are not deleted have each status.
SELECT status, COUNT(*) AS count FROM webhooks WHERE deleted_at IS NULL GROUP BY status

-- name: webhooks_behind
-- Enabled webhooks behind their tenant's head or failing, the longest behind first: only
-- unsettled tenants' webhooks and webhooks with a retry time can be, so the others are
-- never read. The first row also carries how many there are of each.
WITH found AS (
    SELECT w.id FROM tenants AS t INDEXED BY tenants_unsettled
    CROSS JOIN webhooks AS w INDEXED BY webhooks_cursor
    WHERE w.tenant = t.tenant AND t.work_interruptions_head > t.settled_head
        AND w.status = 'Enabled' AND w.deleted_at IS NULL
        AND w.cursor < t.work_interruptions_head
    UNION
    SELECT w.id FROM webhooks AS w INDEXED BY webhooks_retry
    WHERE w.status = 'Enabled' AND w.deleted_at IS NULL AND w.next_attempt_at IS NOT NULL
), measured AS (
    SELECT w.id, w.tenant, w.created_at, w.caught_up_at, w.failures,
        MAX(t.work_interruptions_head - w.cursor, 0) AS changes_behind
    FROM found AS f JOIN webhooks AS w ON w.id = f.id JOIN tenants AS t ON t.tenant = w.tenant
)
SELECT *,
    (SELECT COUNT(*) FROM measured WHERE changes_behind > 0) AS behind,
    (SELECT COUNT(*) FROM measured WHERE failures > 0) AS failing
FROM measured
ORDER BY COALESCE(caught_up_at, created_at), id
LIMIT MAX(:limit, 1)

-- name: list_work_interruptions
-- One keyset page of live work interruptions in (date, id) order, over the
-- (tenant, date, id) index; :persons (a list) narrows to some people.
SELECT id, person_id, date, duration_in_minutes, start_time_in_minutes, end_time_in_minutes,
    change_version, deleted
FROM work_interruptions
WHERE tenant = :tenant AND deleted = 0 AND date >= :date_from AND date <= :date_to
    AND (:persons IS NULL OR person_id IN (SELECT value FROM json_each(:persons)))
    AND (:after_date IS NULL OR (date, id) > (:after_date, :after_id))
ORDER BY date, id
LIMIT :limit

-- name: predefined_references
-- The live people's own numbers (the @ references).
SELECT id, badge_number, employee_number FROM people
WHERE tenant = :tenant AND deleted = 0 AND id IN (SELECT value FROM json_each(:ids))

-- name: custom_references
-- The people's custom references of the keys asked for.
SELECT person_id, key, value FROM person_references
WHERE tenant = :tenant
    AND person_id IN (SELECT value FROM json_each(:ids))
    AND key IN (SELECT value FROM json_each(:keys))

-- name: list_clients
-- The clients of :tenant (of every tenant when NULL), revoked ones included.
SELECT id, tenant, secret_hash, scopes, created_at, revoked_at FROM clients
WHERE :tenant IS NULL OR tenant = :tenant
ORDER BY tenant, created_at, id

-- name: webhook_secret_prefixes
-- The distinct seal prefixes of the webhook secrets (which master keys they need).
SELECT DISTINCT substr(secret, 1, :size) AS prefix FROM webhooks

-- name: webhook_secrets_not_starting
-- The webhook secrets not sealed with :prefix.
SELECT id, secret FROM webhooks WHERE substr(secret, 1, length(:prefix)) <> :prefix
