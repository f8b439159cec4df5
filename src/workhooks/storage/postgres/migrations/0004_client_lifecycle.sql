-- Clients can be revoked (their tokens stop at once) and listed per tenant.
ALTER TABLE clients ADD COLUMN revoked_at TIMESTAMPTZ;
CREATE INDEX clients_by_tenant ON clients (tenant, created_at, id);
