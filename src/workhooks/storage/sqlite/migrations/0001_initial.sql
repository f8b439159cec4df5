-- The record tables are the change log: current state plus change_version, tombstones on delete.
CREATE TABLE tenants (
    tenant TEXT PRIMARY KEY,
    head_version INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE clients (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    private_key BLOB NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE people (
    tenant TEXT NOT NULL,
    id INTEGER NOT NULL,
    badge_number TEXT,
    employee_number TEXT,
    change_version INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX people_changes ON people (tenant, change_version);

CREATE TABLE work_interruptions (
    tenant TEXT NOT NULL,
    id INTEGER NOT NULL,
    person_id INTEGER NOT NULL,
    date TEXT NOT NULL,
    duration_in_minutes INTEGER NOT NULL,
    start_time_in_minutes INTEGER NOT NULL,
    end_time_in_minutes INTEGER NOT NULL,
    change_version INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX work_interruptions_changes ON work_interruptions (tenant, change_version);
CREATE INDEX work_interruptions_person ON work_interruptions (tenant, person_id) WHERE deleted = 0;

CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    destination_url TEXT NOT NULL,
    collection TEXT NOT NULL,
    secret BLOB NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    cursor INTEGER NOT NULL,
    deleted_at TEXT,
    disabled_reason TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT
);
CREATE INDEX webhooks_tenant ON webhooks (tenant, created_at);
CREATE INDEX webhooks_enabled ON webhooks (status, deleted_at);

CREATE TABLE delivery_attempts (
    id INTEGER PRIMARY KEY,
    webhook_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    record_id INTEGER NOT NULL,
    change_version INTEGER NOT NULL,
    attempted_at TEXT NOT NULL,
    succeeded INTEGER NOT NULL,
    status_code INTEGER,
    latency_ms REAL NOT NULL,
    error_class TEXT,
    response_excerpt TEXT NOT NULL
);
CREATE INDEX delivery_attempts_webhook ON delivery_attempts (webhook_id, id);
