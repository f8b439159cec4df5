-- Listing by date range, keyset-paged on (date, id).
CREATE INDEX work_interruptions_by_date ON work_interruptions (tenant, date, id) WHERE deleted = 0;

-- Custom external references of people: values unique per key within a tenant.
CREATE TABLE person_references (
    tenant TEXT NOT NULL,
    person_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (tenant, person_id, key)
) WITHOUT ROWID;
CREATE UNIQUE INDEX person_references_value ON person_references (tenant, key, value);

-- The references a webhook renders into every event, as a JSON array of [collection, key].
ALTER TABLE webhooks ADD COLUMN external_references TEXT NOT NULL DEFAULT '[]';
