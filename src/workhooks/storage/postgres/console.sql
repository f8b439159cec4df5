-- The named queries of the console and the delivery portal (see storage/console.py) that
-- PostgreSQL writes its own way, alike in name and parameters in both SQL stores (see
-- sqlite/console.sql); those written alike are in ../shared.sql
-- (tests/unit/test_query_vocabulary.py holds them together).

-- name: disable_operator
-- Disable an operator; disabling twice keeps the first time.
UPDATE operators SET disabled_at = coalesce(disabled_at, :at) WHERE name = :name

-- name: end_sessions
-- End an actor's live sessions: :only that one, or all but :keep (over the actor's index).
UPDATE console_sessions SET ended_at = :at
WHERE actor = :actor AND ended_at IS NULL AND expires_at > :at
    AND (:only::text IS NULL OR id = :only) AND (:keep::text IS NULL OR id <> :keep)

-- name: list_audit
-- The latest audit entries (of one tenant when :tenant is given), newest first.
SELECT * FROM audit_log
WHERE :tenant::text IS NULL OR tenant = :tenant
ORDER BY id DESC
LIMIT :limit

-- name: search_webhooks
-- Live webhooks of every tenant and how far behind they are, over the index of live webhooks.
SELECT w.*, GREATEST(COALESCE(t.work_interruptions_head, 0) - w.cursor, 0) AS changes_behind
FROM webhooks AS w
LEFT JOIN tenants AS t ON t.tenant = w.tenant
WHERE w.deleted_at IS NULL
    AND (:tenant::text IS NULL OR w.tenant = :tenant)
    AND (:status::text IS NULL OR w.status = :status)
    AND (NOT :failing::boolean OR w.failures > 0)
    AND (:text::text IS NULL OR w.id = :text OR w.tenant = :text
        OR strpos(w.destination_url, :text) > 0)
    AND (:after_tenant::text IS NULL OR (w.tenant, w.id) > (:after_tenant::text, :after_id::text))
ORDER BY w.tenant, w.id
LIMIT :limit

-- name: search_webhooks_of_tenant
-- One tenant's webhooks, over the (tenant, id) index of live webhooks.
SELECT w.*, GREATEST(COALESCE(t.work_interruptions_head, 0) - w.cursor, 0) AS changes_behind
FROM webhooks AS w
LEFT JOIN tenants AS t ON t.tenant = w.tenant
WHERE w.deleted_at IS NULL
    AND w.tenant = :tenant
    AND (:status::text IS NULL OR w.status = :status)
    AND (NOT :failing::boolean OR w.failures > 0)
    AND (:text::text IS NULL OR w.id = :text OR w.tenant = :text
        OR strpos(w.destination_url, :text) > 0)
    AND (:after_tenant::text IS NULL OR (w.tenant, w.id) > (:after_tenant::text, :after_id::text))
ORDER BY w.tenant, w.id
LIMIT :limit

-- name: search_deliveries
-- Across every webhook: the time index gives the order (the first page reads one page of rows).
SELECT d.*, w.tenant FROM deliveries AS d
JOIN webhooks AS w ON w.id = d.webhook_id
WHERE (:tenant::text IS NULL OR w.tenant = :tenant)
    AND (:webhook_id::text IS NULL OR d.webhook_id = :webhook_id)
    AND (:record_id::bigint IS NULL OR d.record_id = :record_id)
    AND (:status::text IS NULL OR d.status = :status)
    AND (:status_code::integer IS NULL OR d.last_status_code = :status_code)
    AND (:error_class::text IS NULL OR d.last_error_class = :error_class)
    AND (:since::timestamptz IS NULL OR d.last_attempt_at >= :since)
    AND (:until::timestamptz IS NULL OR d.last_attempt_at <= :until)
    AND (:after_at::timestamptz IS NULL OR (d.last_attempt_at, d.webhook_id, d.message_id)
        < (:after_at::timestamptz, :after_webhook::text, :after_id::text))
ORDER BY d.last_attempt_at DESC, d.webhook_id DESC, d.message_id DESC
LIMIT :limit

-- name: search_deliveries_by_webhook
-- One webhook's deliveries: its (webhook_id, last_attempt_at, message_id) index gives the order.
SELECT d.*, w.tenant FROM deliveries AS d
JOIN webhooks AS w ON w.id = d.webhook_id
WHERE d.webhook_id = :webhook_id AND (:tenant::text IS NULL OR w.tenant = :tenant)
    AND (:record_id::bigint IS NULL OR d.record_id = :record_id)
    AND (:status::text IS NULL OR d.status = :status)
    AND (:status_code::integer IS NULL OR d.last_status_code = :status_code)
    AND (:error_class::text IS NULL OR d.last_error_class = :error_class)
    AND (:since::timestamptz IS NULL OR d.last_attempt_at >= :since)
    AND (:until::timestamptz IS NULL OR d.last_attempt_at <= :until)
    AND (:after_at::timestamptz IS NULL OR (d.last_attempt_at, d.webhook_id, d.message_id)
        < (:after_at::timestamptz, :after_webhook::text, :after_id::text))
ORDER BY d.last_attempt_at DESC, d.webhook_id DESC, d.message_id DESC
LIMIT :limit

-- name: search_deliveries_by_record
-- One record's deliveries: found through the record index, then sorted (few rows).
SELECT d.*, w.tenant FROM deliveries AS d
JOIN webhooks AS w ON w.id = d.webhook_id
WHERE d.record_id = :record_id AND (:tenant::text IS NULL OR w.tenant = :tenant)
    AND (:webhook_id::text IS NULL OR d.webhook_id = :webhook_id)
    AND (:status::text IS NULL OR d.status = :status)
    AND (:status_code::integer IS NULL OR d.last_status_code = :status_code)
    AND (:error_class::text IS NULL OR d.last_error_class = :error_class)
    AND (:since::timestamptz IS NULL OR d.last_attempt_at >= :since)
    AND (:until::timestamptz IS NULL OR d.last_attempt_at <= :until)
    AND (:after_at::timestamptz IS NULL OR (d.last_attempt_at, d.webhook_id, d.message_id)
        < (:after_at::timestamptz, :after_webhook::text, :after_id::text))
ORDER BY d.last_attempt_at DESC, d.webhook_id DESC, d.message_id DESC
LIMIT :limit

-- name: search_deliveries_by_tenant
-- One tenant's deliveries: each of its webhooks' index ranges, then sorted.
SELECT d.*, w.tenant FROM deliveries AS d
JOIN webhooks AS w ON w.id = d.webhook_id
WHERE d.webhook_id IN (SELECT id FROM webhooks WHERE tenant = :tenant)
    AND w.tenant = :tenant
    AND (:webhook_id::text IS NULL OR d.webhook_id = :webhook_id)
    AND (:record_id::bigint IS NULL OR d.record_id = :record_id)
    AND (:status::text IS NULL OR d.status = :status)
    AND (:status_code::integer IS NULL OR d.last_status_code = :status_code)
    AND (:error_class::text IS NULL OR d.last_error_class = :error_class)
    AND (:since::timestamptz IS NULL OR d.last_attempt_at >= :since)
    AND (:until::timestamptz IS NULL OR d.last_attempt_at <= :until)
    AND (:after_at::timestamptz IS NULL OR (d.last_attempt_at, d.webhook_id, d.message_id)
        < (:after_at::timestamptz, :after_webhook::text, :after_id::text))
ORDER BY d.last_attempt_at DESC, d.webhook_id DESC, d.message_id DESC
LIMIT :limit

-- name: attempt_rates
-- Attempts and failures per minute since :since (the minute as an instant), oldest first.
SELECT date_trunc('minute', attempted_at) AS minute, count(*) AS attempts,
    count(*) FILTER (WHERE NOT succeeded) AS failures
FROM delivery_attempts
WHERE attempted_at >= :since
GROUP BY 1
ORDER BY 1

-- name: enabled_webhook_cursor
-- An enabled live webhook's cursor (no row: not enabled, deleted or unknown), locked until
-- the action's transaction ends.
SELECT cursor FROM webhooks
WHERE tenant = :tenant AND id = :id AND status = 'Enabled' AND deleted_at IS NULL
FOR UPDATE

-- name: first_version_since
-- The first change tried since :since; test events (change version 0) name no change, so
-- they never move a cursor.
SELECT min(change_version) AS first_version FROM deliveries
WHERE webhook_id = :id AND last_attempt_at >= :since AND change_version > 0

-- name: unsettle_tenant
-- A webhook moved back to :cursor: the tenant is settled no further than it.
UPDATE tenants SET settled_head = LEAST(settled_head, :cursor) WHERE tenant = :tenant

-- name: client_tenants
-- Read from the clients' (tenant, created_at, id) index, stopping after :limit tenants.
SELECT DISTINCT tenant FROM clients
WHERE :after::text IS NULL OR tenant > :after
ORDER BY tenant
LIMIT :limit

-- name: upsert_lag_sample
-- Keep the minute's lag sample, the larger of two workers'.
INSERT INTO lag_samples (minute, lag_seconds, behind) VALUES (:minute, :lag_seconds, :behind)
ON CONFLICT (minute) DO UPDATE SET
    lag_seconds = GREATEST(lag_samples.lag_seconds, excluded.lag_seconds),
    behind = GREATEST(lag_samples.behind, excluded.behind)

-- name: lock_test_events
-- One taker of a webhook's test-event slots at a time, across every API process.
SELECT pg_advisory_xact_lock(hashtextextended('test_events:' || :webhook_id, 0))
