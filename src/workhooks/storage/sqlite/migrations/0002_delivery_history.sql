-- Delivery history: one summary row per event and webhook, kept current by each window.
ALTER TABLE delivery_attempts ADD COLUMN next_attempt_at TEXT;
CREATE INDEX delivery_attempts_message ON delivery_attempts (webhook_id, message_id, id);
CREATE INDEX delivery_attempts_time ON delivery_attempts (attempted_at);

CREATE TABLE deliveries (
    webhook_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    record_id INTEGER NOT NULL,
    change_version INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    first_attempt_at TEXT NOT NULL,
    last_attempt_at TEXT NOT NULL,
    last_status_code INTEGER,
    last_error_class TEXT,
    next_attempt_at TEXT,
    PRIMARY KEY (webhook_id, message_id)
) WITHOUT ROWID;
CREATE INDEX deliveries_recent ON deliveries (webhook_id, last_attempt_at, message_id);
CREATE INDEX deliveries_time ON deliveries (last_attempt_at);
