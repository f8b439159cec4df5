-- SQLite's own console writes: what PostgreSQL does in one statement (a data-modifying WITH),
-- SQLite does in two, in one transaction.

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
ON CONFLICT (minute) DO UPDATE SET lag_seconds = MAX(lag_seconds, excluded.lag_seconds),
    behind = MAX(behind, excluded.behind)

-- name: purge_lag_samples
-- Forget the lag samples of the minutes before :before.
DELETE FROM lag_samples WHERE minute < :before
