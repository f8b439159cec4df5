-- The named queries of the console and the delivery portal (see storage/console.py), alike in
-- name and parameters in both SQL stores (see sqlite/console.sql;
-- tests/unit/test_query_vocabulary.py holds them together).

-- name: insert_operator
-- Store an operator account; nothing when the name is taken.
INSERT INTO operators (name, password_hash, created_at)
VALUES (:name, :password_hash, :created_at)
ON CONFLICT (name) DO NOTHING

-- name: get_operator
-- An operator by name.
SELECT * FROM operators WHERE name = :name

-- name: set_operator_password
-- Replace an operator's password hash.
UPDATE operators SET password_hash = :password_hash WHERE name = :name

-- name: disable_operator
-- Disable an operator; disabling twice keeps the first time.
UPDATE operators SET disabled_at = coalesce(disabled_at, :at) WHERE name = :name

-- name: session_live
-- Whether a session is kept, not ended and not expired (a primary-key read).
SELECT 1 FROM console_sessions WHERE id = :id AND ended_at IS NULL AND expires_at > :now

-- name: end_sessions
-- End an actor's live sessions: :only that one, or all but :keep (over the actor's index).
UPDATE console_sessions SET ended_at = :at
WHERE actor = :actor AND ended_at IS NULL AND expires_at > :at
    AND (:only::text IS NULL OR id = :only) AND (:keep::text IS NULL OR id <> :keep)

-- name: live_sessions
-- An actor's sessions neither ended nor expired, newest first.
SELECT * FROM console_sessions
WHERE actor = :actor AND ended_at IS NULL AND expires_at > :now
ORDER BY created_at DESC, id

-- name: insert_audit
-- Append one entry to the audit log.
INSERT INTO audit_log (at, actor, action, tenant, webhook_id, detail)
VALUES (:at, :actor, :action, :tenant, :webhook_id, :detail)

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

-- name: disable_webhook
-- Disable an enabled live webhook for good, with the operator's reason.
UPDATE webhooks SET status = 'Disabled', disabled_reason = :reason, next_attempt_at = NULL
WHERE tenant = :tenant AND id = :id AND status = 'Enabled' AND deleted_at IS NULL

-- name: retry_webhook_now
-- Cut a webhook's back-off short: a retry time after :now becomes :now.
UPDATE webhooks SET next_attempt_at = :now
WHERE tenant = :tenant AND id = :id AND next_attempt_at > :now

-- name: first_version_since
-- The first change tried since :since; test events (change version 0) name no change, so
-- they never move a cursor.
SELECT min(change_version) AS first_version FROM deliveries
WHERE webhook_id = :id AND last_attempt_at >= :since AND change_version > 0

-- name: rewind_webhook
-- Move a webhook's cursor (back) to :cursor.
UPDATE webhooks SET cursor = :cursor
WHERE tenant = :tenant AND id = :id

-- name: unsettle_tenant
-- A webhook moved back to :cursor: the tenant is settled no further than it.
UPDATE tenants SET settled_head = LEAST(settled_head, :cursor) WHERE tenant = :tenant

-- name: record_version
-- A work interruption's current change version, tombstone included.
SELECT change_version FROM work_interruptions WHERE tenant = :tenant AND id = :id

-- name: client_tenants
-- Read from the clients' (tenant, created_at, id) index, stopping after :limit tenants.
SELECT DISTINCT tenant FROM clients
WHERE :after::text IS NULL OR tenant > :after
ORDER BY tenant
LIMIT :limit

-- name: lag_samples
-- The lag samples of the minutes since :since, oldest first (over the primary key).
SELECT minute, lag_seconds, behind FROM lag_samples WHERE minute >= :since ORDER BY minute

-- name: purge_sessions
-- Forget the sessions that expired before :before.
DELETE FROM console_sessions WHERE expires_at < :before

-- name: insert_session
-- Keep a new session.
INSERT INTO console_sessions (id, actor, tenant, created_at, expires_at)
VALUES (:id, :actor, :tenant, :created_at, :expires_at)

-- name: insert_test_attempt
-- A test event's one attempt (no record, change version 0).
INSERT INTO delivery_attempts (webhook_id, message_id, record_id, change_version, attempted_at,
    succeeded, status_code, latency_ms, error_class, response_excerpt, next_attempt_at)
VALUES (:webhook_id, :message_id, 0, 0, :attempted_at, :succeeded, :status_code, :latency_ms,
    :error_class, :response_excerpt, NULL)

-- name: insert_test_delivery
-- A test event's delivery summary: one attempt, never retried.
INSERT INTO deliveries (webhook_id, message_id, record_id, change_version, status, attempts,
    first_attempt_at, last_attempt_at, last_status_code, last_error_class, next_attempt_at)
VALUES (:webhook_id, :message_id, 0, 0, :status, 1, :attempted_at, :attempted_at,
    :status_code, :error_class, NULL)

-- name: upsert_lag_sample
-- Keep the minute's lag sample, the larger of two workers'.
INSERT INTO lag_samples (minute, lag_seconds, behind) VALUES (:minute, :lag_seconds, :behind)
ON CONFLICT (minute) DO UPDATE SET
    lag_seconds = GREATEST(lag_samples.lag_seconds, excluded.lag_seconds),
    behind = GREATEST(lag_samples.behind, excluded.behind)

-- name: purge_lag_samples
-- Forget the lag samples of the minutes before :before.
DELETE FROM lag_samples WHERE minute < :before

-- name: lock_test_events
-- One taker of a webhook's test-event slots at a time, across every API process.
SELECT pg_advisory_xact_lock(hashtextextended('test_events:' || :webhook_id, 0))

-- name: test_event_slots
-- When the webhook's test events within the window (since :since) were taken.
SELECT taken_at FROM test_event_slots WHERE webhook_id = :webhook_id AND taken_at > :since
ORDER BY taken_at

-- name: purge_test_event_slots
-- Forget the webhook's slots that have left the window.
DELETE FROM test_event_slots WHERE webhook_id = :webhook_id AND taken_at <= :since

-- name: insert_test_event_slot
-- Take one test-event slot of the webhook.
INSERT INTO test_event_slots (webhook_id, taken_at) VALUES (:webhook_id, :taken_at)
