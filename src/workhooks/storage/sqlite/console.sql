-- The named queries of the console and the delivery portal (see storage/console.py) that
-- SQLite writes its own way, alike in name and parameters in both SQL stores (see
-- postgres/console.sql); those written alike are in ../shared.sql
-- (tests/unit/test_query_vocabulary.py holds them together).

-- name: disable_operator
-- Disable an operator; disabling twice keeps the first time.
UPDATE operators SET disabled_at = COALESCE(disabled_at, :at) WHERE name = :name

-- name: end_sessions
-- End an actor's live sessions: :only that one, or all but :keep (over the actor's index).
UPDATE console_sessions SET ended_at = :at
WHERE actor = :actor AND ended_at IS NULL AND expires_at > :at
    AND (:only IS NULL OR id = :only) AND (:keep IS NULL OR id <> :keep)

-- name: list_audit
-- The latest audit entries (of one tenant when :tenant is given), newest first.
SELECT * FROM audit_log
WHERE :tenant IS NULL OR tenant = :tenant
ORDER BY id DESC
LIMIT :limit

-- name: search_webhooks
-- Live webhooks of every tenant and how far behind they are, over the index of live webhooks.
SELECT w.*, MAX(COALESCE(t.work_interruptions_head, 0) - w.cursor, 0) AS changes_behind
FROM webhooks AS w
LEFT JOIN tenants AS t ON t.tenant = w.tenant
WHERE w.deleted_at IS NULL
    AND (:tenant IS NULL OR w.tenant = :tenant)
    AND (:status IS NULL OR w.status = :status)
    AND (:failing = 0 OR w.failures > 0)
    AND (:text IS NULL OR w.id = :text OR w.tenant = :text
        OR instr(w.destination_url, :text) > 0)
    AND (:after_tenant IS NULL OR (w.tenant, w.id) > (:after_tenant, :after_id))
ORDER BY w.tenant, w.id
LIMIT :limit

-- name: search_webhooks_of_tenant
-- One tenant's webhooks, over the (tenant, id) index of live webhooks.
SELECT w.*, MAX(COALESCE(t.work_interruptions_head, 0) - w.cursor, 0) AS changes_behind
FROM webhooks AS w
LEFT JOIN tenants AS t ON t.tenant = w.tenant
WHERE w.deleted_at IS NULL
    AND w.tenant = :tenant
    AND (:status IS NULL OR w.status = :status)
    AND (:failing = 0 OR w.failures > 0)
    AND (:text IS NULL OR w.id = :text OR w.tenant = :text
        OR instr(w.destination_url, :text) > 0)
    AND (:after_tenant IS NULL OR (w.tenant, w.id) > (:after_tenant, :after_id))
ORDER BY w.tenant, w.id
LIMIT :limit

-- name: search_deliveries
-- Across every webhook: the time index gives the order (the first page reads one page of rows).
SELECT d.*, w.tenant FROM deliveries AS d
JOIN webhooks AS w ON w.id = d.webhook_id
WHERE (:tenant IS NULL OR w.tenant = :tenant)
    AND (:webhook_id IS NULL OR d.webhook_id = :webhook_id)
    AND (:record_id IS NULL OR d.record_id = :record_id)
    AND (:status IS NULL OR d.status = :status)
    AND (:status_code IS NULL OR d.last_status_code = :status_code)
    AND (:error_class IS NULL OR d.last_error_class = :error_class)
    AND (:since IS NULL OR d.last_attempt_at >= :since)
    AND (:until IS NULL OR d.last_attempt_at <= :until)
    AND (:after_at IS NULL OR (d.last_attempt_at, d.webhook_id, d.message_id)
        < (:after_at, :after_webhook, :after_id))
ORDER BY d.last_attempt_at DESC, d.webhook_id DESC, d.message_id DESC
LIMIT :limit

-- name: search_deliveries_by_webhook
-- One webhook's deliveries: its (webhook_id, last_attempt_at, message_id) index gives the order.
SELECT d.*, w.tenant FROM deliveries AS d
JOIN webhooks AS w ON w.id = d.webhook_id
WHERE d.webhook_id = :webhook_id AND w.tenant = COALESCE(:tenant, w.tenant)
    AND (:record_id IS NULL OR d.record_id = :record_id)
    AND (:status IS NULL OR d.status = :status)
    AND (:status_code IS NULL OR d.last_status_code = :status_code)
    AND (:error_class IS NULL OR d.last_error_class = :error_class)
    AND (:since IS NULL OR d.last_attempt_at >= :since)
    AND (:until IS NULL OR d.last_attempt_at <= :until)
    AND (:after_at IS NULL OR (d.last_attempt_at, d.webhook_id, d.message_id)
        < (:after_at, :after_webhook, :after_id))
ORDER BY d.last_attempt_at DESC, d.webhook_id DESC, d.message_id DESC
LIMIT :limit

-- name: search_deliveries_by_record
-- One record's deliveries: found through the record index, then sorted (few rows).
SELECT d.*, w.tenant FROM deliveries AS d
JOIN webhooks AS w ON w.id = d.webhook_id
WHERE d.record_id = :record_id
    AND (:tenant IS NULL OR w.tenant = :tenant)
    AND (:webhook_id IS NULL OR d.webhook_id = :webhook_id)
    AND (:status IS NULL OR d.status = :status)
    AND (:status_code IS NULL OR d.last_status_code = :status_code)
    AND (:error_class IS NULL OR d.last_error_class = :error_class)
    AND (:since IS NULL OR d.last_attempt_at >= :since)
    AND (:until IS NULL OR d.last_attempt_at <= :until)
    AND (:after_at IS NULL OR (d.last_attempt_at, d.webhook_id, d.message_id)
        < (:after_at, :after_webhook, :after_id))
ORDER BY d.last_attempt_at DESC, d.webhook_id DESC, d.message_id DESC
LIMIT :limit

-- name: search_deliveries_by_tenant
-- One tenant's deliveries: each of its webhooks' index ranges, then sorted.
SELECT d.*, w.tenant FROM deliveries AS d
JOIN webhooks AS w ON w.id = d.webhook_id
WHERE d.webhook_id IN (SELECT id FROM webhooks WHERE tenant = :tenant)
    AND w.tenant = :tenant
    AND (:webhook_id IS NULL OR d.webhook_id = :webhook_id)
    AND (:record_id IS NULL OR d.record_id = :record_id)
    AND (:status IS NULL OR d.status = :status)
    AND (:status_code IS NULL OR d.last_status_code = :status_code)
    AND (:error_class IS NULL OR d.last_error_class = :error_class)
    AND (:since IS NULL OR d.last_attempt_at >= :since)
    AND (:until IS NULL OR d.last_attempt_at <= :until)
    AND (:after_at IS NULL OR (d.last_attempt_at, d.webhook_id, d.message_id)
        < (:after_at, :after_webhook, :after_id))
ORDER BY d.last_attempt_at DESC, d.webhook_id DESC, d.message_id DESC
LIMIT :limit

-- name: attempt_rates
-- Attempts and failures per minute since :since (the minute as an instant), oldest first.
SELECT substr(attempted_at, 1, 16) || ':00+00:00' AS minute, count(*) AS attempts,
    sum(1 - succeeded) AS failures
FROM delivery_attempts
WHERE attempted_at >= :since
GROUP BY minute
ORDER BY minute

-- name: enabled_webhook_cursor
-- An enabled live webhook's cursor (no row: not enabled, deleted or unknown).
SELECT cursor FROM webhooks
WHERE tenant = :tenant AND id = :id AND status = 'Enabled' AND deleted_at IS NULL

-- name: first_version_since
-- The first change tried since :since; test events (change version 0) name no change, so
-- they never move a cursor.
SELECT MIN(change_version) AS first_version FROM deliveries
WHERE webhook_id = :id AND last_attempt_at >= :since AND change_version > 0

-- name: unsettle_tenant
-- A webhook moved back to :cursor: the tenant is settled no further than it.
UPDATE tenants SET settled_head = MIN(settled_head, :cursor) WHERE tenant = :tenant

-- name: client_tenants
-- Read from the clients' (tenant, created_at, id) index, stopping after :limit tenants.
SELECT DISTINCT tenant FROM clients
WHERE :after IS NULL OR tenant > :after
ORDER BY tenant
LIMIT :limit

-- name: upsert_lag_sample
-- Keep the minute's lag sample, the larger of two workers'.
INSERT INTO lag_samples (minute, lag_seconds, behind) VALUES (:minute, :lag_seconds, :behind)
ON CONFLICT (minute) DO UPDATE SET lag_seconds = MAX(lag_seconds, excluded.lag_seconds),
    behind = MAX(behind, excluded.behind)

-- name: lock_test_events
-- One taker of a webhook's test-event slots at a time: a write transaction (BEGIN IMMEDIATE)
-- holds the file's only write lock already, across processes, so this takes nothing more.
SELECT :webhook_id AS webhook_id
