-- When each webhook's recent test events were taken, so the limit on test events holds
-- across every API process of the database (rows leave once out of the window).
CREATE TABLE test_event_slots (
    webhook_id TEXT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX test_event_slots_webhook ON test_event_slots (webhook_id, taken_at);
