-- workhooks on PostgreSQL: the record tables are the change log (current state + change_version,
-- tombstones on delete); tenants.head_version is the per-tenant version counter.
CREATE TABLE tenants (
    tenant TEXT PRIMARY KEY,
    head_version BIGINT NOT NULL
);

CREATE TABLE clients (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    private_key BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE people (
    tenant TEXT NOT NULL,
    id BIGINT NOT NULL,
    badge_number TEXT,
    employee_number TEXT,
    change_version BIGINT NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX people_changes ON people (tenant, change_version);

CREATE TABLE work_interruptions (
    tenant TEXT NOT NULL,
    id BIGINT NOT NULL,
    person_id BIGINT NOT NULL,
    date DATE NOT NULL,
    duration_in_minutes INTEGER NOT NULL,
    start_time_in_minutes INTEGER NOT NULL,
    end_time_in_minutes INTEGER NOT NULL,
    change_version BIGINT NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX work_interruptions_changes ON work_interruptions (tenant, change_version);
CREATE INDEX work_interruptions_person ON work_interruptions (tenant, person_id) WHERE NOT deleted;
CREATE INDEX work_interruptions_by_date ON work_interruptions (tenant, date, id) WHERE NOT deleted;

CREATE TABLE person_references (
    tenant TEXT NOT NULL,
    person_id BIGINT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (tenant, person_id, key)
);
CREATE UNIQUE INDEX person_references_value ON person_references (tenant, key, value);

CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    destination_url TEXT NOT NULL,
    collection TEXT NOT NULL,
    secret BYTEA NOT NULL,
    status TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    valid_until TIMESTAMPTZ NOT NULL,
    cursor BIGINT NOT NULL,
    deleted_at TIMESTAMPTZ,
    disabled_reason TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ,
    caught_up_at TIMESTAMPTZ,
    external_references TEXT NOT NULL DEFAULT '[]',
    -- The worker delivering this webhook, until the lease runs out.
    leased_by TEXT,
    lease_expires_at TIMESTAMPTZ
);
CREATE INDEX webhooks_tenant ON webhooks (tenant, created_at);
CREATE INDEX webhooks_enabled ON webhooks (status) WHERE deleted_at IS NULL;

CREATE TABLE delivery_attempts (
    id BIGSERIAL PRIMARY KEY,
    webhook_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    change_version BIGINT NOT NULL,
    attempted_at TIMESTAMPTZ NOT NULL,
    succeeded BOOLEAN NOT NULL,
    status_code INTEGER,
    latency_ms DOUBLE PRECISION NOT NULL,
    error_class TEXT,
    response_excerpt TEXT NOT NULL,
    next_attempt_at TIMESTAMPTZ
);
CREATE INDEX delivery_attempts_webhook ON delivery_attempts (webhook_id, id);
CREATE INDEX delivery_attempts_message ON delivery_attempts (webhook_id, message_id, id);
CREATE INDEX delivery_attempts_time ON delivery_attempts (attempted_at);

CREATE TABLE deliveries (
    webhook_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    change_version BIGINT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    first_attempt_at TIMESTAMPTZ NOT NULL,
    last_attempt_at TIMESTAMPTZ NOT NULL,
    last_status_code INTEGER,
    last_error_class TEXT,
    next_attempt_at TIMESTAMPTZ,
    PRIMARY KEY (webhook_id, message_id)
);
CREATE INDEX deliveries_recent ON deliveries (webhook_id, last_attempt_at, message_id);
CREATE INDEX deliveries_time ON deliveries (last_attempt_at);
