-- The due set. A write of work interruptions raises its tenant's work_interruptions_head;
-- a tenant is settled (settled_head = work_interruptions_head) once every enabled webhook
-- that may send now has delivered up to that head. Workers look for work only in unsettled
-- tenants and among webhooks whose retry time has come, so idle webhooks cost nothing.
ALTER TABLE tenants ADD COLUMN work_interruptions_head INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN settled_head INTEGER NOT NULL DEFAULT 0;
UPDATE tenants SET work_interruptions_head = COALESCE(
    (SELECT MAX(r.change_version) FROM work_interruptions AS r WHERE r.tenant = tenants.tenant), 0);
CREATE INDEX tenants_unsettled ON tenants (tenant) WHERE work_interruptions_head > settled_head;
CREATE INDEX webhooks_cursor ON webhooks (tenant, cursor, id)
    WHERE status = 'Enabled' AND deleted_at IS NULL;
CREATE INDEX webhooks_retry ON webhooks (next_attempt_at)
    WHERE status = 'Enabled' AND deleted_at IS NULL AND next_attempt_at IS NOT NULL;
CREATE INDEX webhooks_expiry ON webhooks (valid_until) WHERE status = 'Enabled';
