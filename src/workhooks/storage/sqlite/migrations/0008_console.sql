-- Operators of the console (scrypt password hashes) and the audit log of their actions.
CREATE TABLE operators (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    tenant TEXT,
    webhook_id TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX audit_log_tenant ON audit_log (tenant, id);

-- Console searches: webhooks paged by (tenant, id), deliveries across webhooks by time.
CREATE INDEX webhooks_by_tenant_id ON webhooks (tenant, id) WHERE deleted_at IS NULL;
CREATE INDEX deliveries_by_time ON deliveries (last_attempt_at, webhook_id, message_id);
CREATE INDEX deliveries_by_record ON deliveries (record_id);
-- The attempts' time index also holds the outcome: per-minute rates read the index alone.
DROP INDEX delivery_attempts_time;
CREATE INDEX delivery_attempts_time ON delivery_attempts (attempted_at, succeeded);
