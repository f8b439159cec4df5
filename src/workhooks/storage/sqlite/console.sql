-- Queries of the console and the delivery portal (see storage/console.py).

-- name: insert_operator
INSERT INTO operators (name, password_hash, created_at)
VALUES (:name, :password_hash, :created_at)
ON CONFLICT (name) DO NOTHING

-- name: get_operator
SELECT * FROM operators WHERE name = :name

-- name: set_operator_password
UPDATE operators SET password_hash = :password_hash WHERE name = :name

-- name: insert_audit
INSERT INTO audit_log (at, actor, action, tenant, webhook_id, detail)
VALUES (:at, :actor, :action, :tenant, :webhook_id, :detail)

-- name: list_audit
SELECT * FROM audit_log
WHERE :tenant IS NULL OR tenant = :tenant
ORDER BY id DESC
LIMIT :limit

-- name: search_webhooks
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

-- name: disable_webhook
UPDATE webhooks SET status = 'Disabled', disabled_reason = :reason, next_attempt_at = NULL
WHERE tenant = :tenant AND id = :id AND status = 'Enabled' AND deleted_at IS NULL

-- name: retry_webhook_now
UPDATE webhooks SET next_attempt_at = :now
WHERE tenant = :tenant AND id = :id AND status = 'Enabled' AND deleted_at IS NULL
    AND next_attempt_at > :now
RETURNING id

-- name: enabled_webhook_cursor
SELECT cursor FROM webhooks
WHERE tenant = :tenant AND id = :id AND status = 'Enabled' AND deleted_at IS NULL

-- name: first_version_since
-- Test events (change version 0) name no change: they never move a cursor.
SELECT MIN(change_version) FROM deliveries
WHERE webhook_id = :id AND last_attempt_at >= :since AND change_version > 0

-- name: record_version
SELECT change_version FROM work_interruptions WHERE tenant = :tenant AND id = :id

-- name: insert_test_attempt
INSERT INTO delivery_attempts (webhook_id, message_id, record_id, change_version, attempted_at,
    succeeded, status_code, latency_ms, error_class, response_excerpt, next_attempt_at)
VALUES (:webhook_id, :message_id, 0, 0, :attempted_at, :succeeded, :status_code, :latency_ms,
    :error_class, :response_excerpt, NULL)

-- name: insert_test_delivery
INSERT INTO deliveries (webhook_id, message_id, record_id, change_version, status, attempts,
    first_attempt_at, last_attempt_at, last_status_code, last_error_class, next_attempt_at)
VALUES (:webhook_id, :message_id, 0, 0, :status, 1, :attempted_at, :attempted_at,
    :status_code, :error_class, NULL)

-- name: rewind_webhook
UPDATE webhooks SET cursor = :cursor
WHERE tenant = :tenant AND id = :id

-- name: unsettle_tenant
UPDATE tenants SET settled_head = MIN(settled_head, :cursor) WHERE tenant = :tenant

-- name: attempt_rates
SELECT substr(attempted_at, 1, 16) AS minute, count(*) AS attempts,
    sum(1 - succeeded) AS failures
FROM delivery_attempts
WHERE attempted_at >= :since
GROUP BY minute
ORDER BY minute

-- name: client_tenants
-- Read from the clients' (tenant, created_at, id) index, stopping after :limit tenants.
SELECT DISTINCT tenant FROM clients
WHERE :after IS NULL OR tenant > :after
ORDER BY tenant
LIMIT :limit

-- name: upsert_lag_sample
INSERT INTO lag_samples (minute, lag_seconds, behind) VALUES (:minute, :lag_seconds, :behind)
ON CONFLICT (minute) DO UPDATE SET lag_seconds = MAX(lag_seconds, excluded.lag_seconds),
    behind = MAX(behind, excluded.behind)

-- name: purge_lag_samples
DELETE FROM lag_samples WHERE minute < :before

-- name: lag_samples
SELECT minute, lag_seconds, behind FROM lag_samples WHERE minute >= :since ORDER BY minute

-- name: disable_operator
UPDATE operators SET disabled_at = COALESCE(disabled_at, :at) WHERE name = :name

-- name: insert_session
INSERT INTO console_sessions (id, actor, tenant, created_at, expires_at)
VALUES (:id, :actor, :tenant, :created_at, :expires_at)

-- name: purge_sessions
DELETE FROM console_sessions WHERE expires_at < :before

-- name: session_live
SELECT 1 FROM console_sessions WHERE id = :id AND ended_at IS NULL AND expires_at > :now

-- name: end_sessions
UPDATE console_sessions SET ended_at = :at
WHERE actor = :actor AND ended_at IS NULL AND expires_at > :at
    AND (:only IS NULL OR id = :only) AND (:keep IS NULL OR id <> :keep)

-- name: live_sessions
SELECT * FROM console_sessions
WHERE actor = :actor AND ended_at IS NULL AND expires_at > :now
ORDER BY created_at DESC, id
