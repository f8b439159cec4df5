-- Queries of the console and the delivery portal (see storage/console.py).

-- name: insert_operator
INSERT INTO operators (name, password_hash, created_at) VALUES ($1, $2, $3)
ON CONFLICT (name) DO NOTHING
RETURNING name

-- name: get_operator
SELECT * FROM operators WHERE name = $1

-- name: set_operator_password
UPDATE operators SET password_hash = $2 WHERE name = $1 RETURNING name

-- name: insert_audit
INSERT INTO audit_log (at, actor, action, tenant, webhook_id, detail)
VALUES ($1, $2, $3, $4, $5, $6)

-- name: list_audit
SELECT * FROM audit_log
WHERE $1::text IS NULL OR tenant = $1
ORDER BY id DESC
LIMIT $2

-- name: search_webhooks
SELECT w.*, GREATEST(COALESCE(t.work_interruptions_head, 0) - w.cursor, 0) AS changes_behind
FROM webhooks AS w
LEFT JOIN tenants AS t ON t.tenant = w.tenant
WHERE w.deleted_at IS NULL
    AND ($1::text IS NULL OR w.tenant = $1)
    AND ($2::text IS NULL OR w.status = $2)
    AND (NOT $3::boolean OR w.failures > 0)
    AND ($4::text IS NULL OR w.id = $4 OR w.tenant = $4 OR strpos(w.destination_url, $4) > 0)
    AND ($5::text IS NULL OR (w.tenant, w.id) > ($5::text, $6::text))
ORDER BY w.tenant, w.id
LIMIT $7

-- name: search_webhooks_of_tenant
-- One tenant's webhooks, over the (tenant, id) index of live webhooks.
SELECT w.*, GREATEST(COALESCE(t.work_interruptions_head, 0) - w.cursor, 0) AS changes_behind
FROM webhooks AS w
LEFT JOIN tenants AS t ON t.tenant = w.tenant
WHERE w.deleted_at IS NULL
    AND w.tenant = $1
    AND ($2::text IS NULL OR w.status = $2)
    AND (NOT $3::boolean OR w.failures > 0)
    AND ($4::text IS NULL OR w.id = $4 OR w.tenant = $4 OR strpos(w.destination_url, $4) > 0)
    AND ($5::text IS NULL OR (w.tenant, w.id) > ($5::text, $6::text))
ORDER BY w.tenant, w.id
LIMIT $7

-- name: search_deliveries
-- Across every webhook: the time index gives the order (the first page reads one page of rows).
SELECT d.*, w.tenant FROM deliveries AS d
JOIN webhooks AS w ON w.id = d.webhook_id
WHERE ($1::text IS NULL OR w.tenant = $1)
    AND ($2::text IS NULL OR d.webhook_id = $2)
    AND ($3::bigint IS NULL OR d.record_id = $3)
    AND ($4::text IS NULL OR d.status = $4)
    AND ($5::integer IS NULL OR d.last_status_code = $5)
    AND ($6::text IS NULL OR d.last_error_class = $6)
    AND ($7::timestamptz IS NULL OR d.last_attempt_at >= $7)
    AND ($8::timestamptz IS NULL OR d.last_attempt_at <= $8)
    AND ($9::timestamptz IS NULL OR (d.last_attempt_at, d.webhook_id, d.message_id)
        < ($9::timestamptz, $10::text, $11::text))
ORDER BY d.last_attempt_at DESC, d.webhook_id DESC, d.message_id DESC
LIMIT $12

-- name: search_deliveries_by_webhook
-- One webhook's deliveries: its (webhook_id, last_attempt_at, message_id) index gives the order.
SELECT d.*, w.tenant FROM deliveries AS d
JOIN webhooks AS w ON w.id = d.webhook_id
WHERE d.webhook_id = $2 AND ($1::text IS NULL OR w.tenant = $1)
    AND ($3::bigint IS NULL OR d.record_id = $3)
    AND ($4::text IS NULL OR d.status = $4)
    AND ($5::integer IS NULL OR d.last_status_code = $5)
    AND ($6::text IS NULL OR d.last_error_class = $6)
    AND ($7::timestamptz IS NULL OR d.last_attempt_at >= $7)
    AND ($8::timestamptz IS NULL OR d.last_attempt_at <= $8)
    AND ($9::timestamptz IS NULL OR (d.last_attempt_at, d.webhook_id, d.message_id)
        < ($9::timestamptz, $10::text, $11::text))
ORDER BY d.last_attempt_at DESC, d.webhook_id DESC, d.message_id DESC
LIMIT $12

-- name: search_deliveries_by_record
-- One record's deliveries: found through the record index, then sorted (few rows).
SELECT d.*, w.tenant FROM deliveries AS d
JOIN webhooks AS w ON w.id = d.webhook_id
WHERE d.record_id = $3 AND ($1::text IS NULL OR w.tenant = $1)
    AND ($2::text IS NULL OR d.webhook_id = $2)
    AND ($4::text IS NULL OR d.status = $4)
    AND ($5::integer IS NULL OR d.last_status_code = $5)
    AND ($6::text IS NULL OR d.last_error_class = $6)
    AND ($7::timestamptz IS NULL OR d.last_attempt_at >= $7)
    AND ($8::timestamptz IS NULL OR d.last_attempt_at <= $8)
    AND ($9::timestamptz IS NULL OR (d.last_attempt_at, d.webhook_id, d.message_id)
        < ($9::timestamptz, $10::text, $11::text))
ORDER BY d.last_attempt_at DESC, d.webhook_id DESC, d.message_id DESC
LIMIT $12

-- name: search_deliveries_by_tenant
-- One tenant's deliveries: each of its webhooks' index ranges, then sorted.
SELECT d.*, w.tenant FROM deliveries AS d
JOIN webhooks AS w ON w.id = d.webhook_id
WHERE d.webhook_id IN (SELECT id FROM webhooks WHERE tenant = $1)
    AND w.tenant = $1
    AND ($2::text IS NULL OR d.webhook_id = $2)
    AND ($3::bigint IS NULL OR d.record_id = $3)
    AND ($4::text IS NULL OR d.status = $4)
    AND ($5::integer IS NULL OR d.last_status_code = $5)
    AND ($6::text IS NULL OR d.last_error_class = $6)
    AND ($7::timestamptz IS NULL OR d.last_attempt_at >= $7)
    AND ($8::timestamptz IS NULL OR d.last_attempt_at <= $8)
    AND ($9::timestamptz IS NULL OR (d.last_attempt_at, d.webhook_id, d.message_id)
        < ($9::timestamptz, $10::text, $11::text))
ORDER BY d.last_attempt_at DESC, d.webhook_id DESC, d.message_id DESC
LIMIT $12

-- name: disable_webhook
UPDATE webhooks SET status = 'Disabled', disabled_reason = $3, next_attempt_at = NULL
WHERE tenant = $1 AND id = $2 AND status = 'Enabled' AND deleted_at IS NULL
RETURNING id

-- name: enabled_webhook_cursor
SELECT cursor FROM webhooks
WHERE tenant = $1 AND id = $2 AND status = 'Enabled' AND deleted_at IS NULL
FOR UPDATE

-- name: retry_webhook_now
UPDATE webhooks SET next_attempt_at = $3
WHERE tenant = $1 AND id = $2 AND next_attempt_at > $3

-- name: first_version_since
-- Test events (change version 0) name no change: they never move a cursor.
SELECT min(change_version) FROM deliveries
WHERE webhook_id = $1 AND last_attempt_at >= $2 AND change_version > 0

-- name: record_version
SELECT change_version FROM work_interruptions WHERE tenant = $1 AND id = $2

-- name: insert_test_delivery
-- A test event's one attempt and its summary, in one statement.
WITH attempt AS (
    INSERT INTO delivery_attempts (webhook_id, message_id, record_id, change_version,
        attempted_at, succeeded, status_code, latency_ms, error_class, response_excerpt)
    VALUES ($1, $2, 0, 0, $3, $4, $5, $6, $7, $8)
)
INSERT INTO deliveries (webhook_id, message_id, record_id, change_version, status, attempts,
    first_attempt_at, last_attempt_at, last_status_code, last_error_class, next_attempt_at)
VALUES ($1, $2, 0, 0, CASE WHEN $4 THEN 'Succeeded' ELSE 'Failed' END, 1, $3, $3, $5, $7, NULL)

-- name: rewind_webhook
UPDATE webhooks SET cursor = $3 WHERE tenant = $1 AND id = $2

-- name: unsettle_tenant
UPDATE tenants SET settled_head = LEAST(settled_head, $2) WHERE tenant = $1

-- name: attempt_rates
SELECT date_trunc('minute', attempted_at) AS minute, count(*) AS attempts,
    count(*) FILTER (WHERE NOT succeeded) AS failures
FROM delivery_attempts
WHERE attempted_at >= $1
GROUP BY 1
ORDER BY 1

-- name: client_tenants
-- Read from the clients' (tenant, created_at, id) index, stopping after $2 tenants.
SELECT DISTINCT tenant FROM clients
WHERE $1::text IS NULL OR tenant > $1
ORDER BY tenant
LIMIT $2

-- name: upsert_lag_sample
-- The minute's sample (the larger of two workers'), and samples before $4 forgotten.
WITH purged AS (DELETE FROM lag_samples WHERE minute < $4)
INSERT INTO lag_samples (minute, lag_seconds, behind) VALUES ($1, $2, $3)
ON CONFLICT (minute) DO UPDATE SET
    lag_seconds = GREATEST(lag_samples.lag_seconds, excluded.lag_seconds),
    behind = GREATEST(lag_samples.behind, excluded.behind)

-- name: lag_samples
SELECT minute, lag_seconds, behind FROM lag_samples WHERE minute >= $1 ORDER BY minute

-- name: disable_operator
UPDATE operators SET disabled_at = coalesce(disabled_at, $2) WHERE name = $1 RETURNING name

-- name: insert_session
-- A new session; the sessions that expired before it began are forgotten.
WITH purged AS (DELETE FROM console_sessions WHERE expires_at < $4)
INSERT INTO console_sessions (id, actor, tenant, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5)

-- name: session_live
SELECT 1 FROM console_sessions WHERE id = $1 AND ended_at IS NULL AND expires_at > $2

-- name: end_sessions
UPDATE console_sessions SET ended_at = $2
WHERE actor = $1 AND ended_at IS NULL AND expires_at > $2
    AND ($3::text IS NULL OR id = $3) AND ($4::text IS NULL OR id <> $4)
RETURNING id

-- name: live_sessions
SELECT * FROM console_sessions
WHERE actor = $1 AND ended_at IS NULL AND expires_at > $2
ORDER BY created_at DESC, id
