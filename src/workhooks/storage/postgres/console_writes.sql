-- PostgreSQL's own console writes: each is one statement (a data-modifying WITH) where
-- SQLite takes two in one transaction.

-- name: start_session
-- Keep a new session; the sessions that expired before it began are forgotten.
WITH purged AS (DELETE FROM console_sessions WHERE expires_at < :created_at)
INSERT INTO console_sessions (id, actor, tenant, created_at, expires_at)
VALUES (:id, :actor, :tenant, :created_at, :expires_at)

-- name: record_test_delivery
-- A test event's one attempt (no record, change version 0) and its delivery summary.
WITH attempt AS (
    INSERT INTO delivery_attempts (webhook_id, message_id, record_id, change_version,
        attempted_at, succeeded, status_code, latency_ms, error_class, response_excerpt)
    VALUES (:webhook_id, :message_id, 0, 0, :attempted_at, :succeeded, :status_code,
        :latency_ms, :error_class, :response_excerpt)
)
INSERT INTO deliveries (webhook_id, message_id, record_id, change_version, status, attempts,
    first_attempt_at, last_attempt_at, last_status_code, last_error_class, next_attempt_at)
VALUES (:webhook_id, :message_id, 0, 0, :status, 1, :attempted_at, :attempted_at,
    :status_code, :error_class, NULL)

-- name: keep_lag_sample
-- Keep the minute's lag sample (the larger of two workers'); forget those before :before.
WITH purged AS (DELETE FROM lag_samples WHERE minute < :before)
INSERT INTO lag_samples (minute, lag_seconds, behind) VALUES (:minute, :lag_seconds, :behind)
ON CONFLICT (minute) DO UPDATE SET
    lag_seconds = GREATEST(lag_samples.lag_seconds, excluded.lag_seconds),
    behind = GREATEST(lag_samples.behind, excluded.behind)
