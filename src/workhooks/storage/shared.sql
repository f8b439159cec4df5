-- The named queries both SQL stores run as they are: the same statement, name, parameters
-- and description in SQLite and PostgreSQL, written once (storage/sql.py loads this file
-- into each dialect's vocabulary, numbering the parameters for PostgreSQL). A statement a
-- dialect writes its own way lives in that dialect's file of the same vocabulary
-- (queries.sql, groups.sql, console.sql), under the same name in both dialects;
-- tests/unit/test_query_vocabulary.py holds them together.

-- == records, clients, webhooks and history ==

-- name: head_version
-- The tenant's latest committed change version (no row: none yet).
SELECT head_version FROM tenants WHERE tenant = :tenant

-- name: insert_client
-- Register an API client.
INSERT INTO clients (id, tenant, secret_hash, scopes, created_at)
VALUES (:id, :tenant, :secret_hash, :scopes, :created_at)

-- name: get_client
-- One API client by id.
SELECT id, tenant, secret_hash, scopes, created_at, revoked_at FROM clients WHERE id = :id

-- name: insert_signing_key_if_none
-- Store the first token signing key, unless there is one already.
INSERT INTO signing_keys (kid, private_key, created_at)
SELECT :kid, :private_key, :created_at WHERE NOT EXISTS (SELECT 1 FROM signing_keys)

-- name: get_signing_key
-- The oldest token signing key.
SELECT kid, private_key, created_at FROM signing_keys ORDER BY created_at, kid LIMIT 1

-- name: get_person_any
-- One person by id, tombstone or live.
SELECT id, badge_number, employee_number, change_version, deleted
FROM people WHERE tenant = :tenant AND id = :id

-- name: get_work_interruption_any
-- One work interruption by id, tombstone or live.
SELECT id, person_id, date, duration_in_minutes, start_time_in_minutes, end_time_in_minutes,
    change_version, deleted
FROM work_interruptions WHERE tenant = :tenant AND id = :id

-- name: get_webhook
-- One webhook of the tenant, deleted or not.
SELECT * FROM webhooks WHERE tenant = :tenant AND id = :id

-- name: list_webhooks
-- The tenant's webhooks that are not deleted, oldest first.
SELECT * FROM webhooks WHERE tenant = :tenant AND deleted_at IS NULL ORDER BY created_at, id

-- name: list_attempts
-- A webhook's most recent delivery attempts, newest first.
SELECT * FROM delivery_attempts WHERE webhook_id = :webhook_id ORDER BY id DESC LIMIT :limit

-- name: get_delivery
-- One delivery summary.
SELECT * FROM deliveries WHERE webhook_id = :webhook_id AND message_id = :message_id

-- name: delivery_attempts
-- One delivery's attempts, oldest first.
SELECT * FROM delivery_attempts
WHERE webhook_id = :webhook_id AND message_id = :message_id
ORDER BY id

-- name: purge_attempts
-- Forget attempts made before :before (retention).
DELETE FROM delivery_attempts WHERE attempted_at < :before

-- name: purge_deliveries
-- Forget deliveries last tried before :before (retention).
DELETE FROM deliveries WHERE last_attempt_at < :before

-- name: person_custom_references
-- One person's custom references, by key.
SELECT key, value FROM person_references WHERE tenant = :tenant AND person_id = :id ORDER BY key

-- name: reference_owner
-- Who holds a custom reference value (unique per key within a tenant).
SELECT person_id FROM person_references WHERE tenant = :tenant AND key = :key AND value = :value

-- name: upsert_person_reference
-- Set one custom reference of a person.
INSERT INTO person_references (tenant, person_id, key, value) VALUES (:tenant, :id, :key, :value)
ON CONFLICT (tenant, person_id, key) DO UPDATE SET value = excluded.value

-- name: delete_person_reference
-- Remove one custom reference of a person.
DELETE FROM person_references WHERE tenant = :tenant AND person_id = :id AND key = :key

-- name: revoke_client
-- Revoke a client once (a revoked client keeps its first revocation time); the client.
UPDATE clients SET revoked_at = coalesce(revoked_at, :at) WHERE id = :id
RETURNING id, tenant, secret_hash, scopes, created_at, revoked_at

-- name: set_client_secret
-- Replace a client's secret hash unless it is revoked; the client.
UPDATE clients SET secret_hash = :secret_hash WHERE id = :id AND revoked_at IS NULL
RETURNING id, tenant, secret_hash, scopes, created_at, revoked_at

-- name: insert_signing_key
-- Store a token signing key.
INSERT INTO signing_keys (kid, private_key, created_at) VALUES (:kid, :private_key, :created_at)

-- name: list_signing_keys
-- Every token signing key, oldest first.
SELECT kid, private_key, created_at FROM signing_keys ORDER BY created_at, kid

-- name: set_signing_key_seal
-- Store a signing key sealed anew.
UPDATE signing_keys SET private_key = :private_key WHERE kid = :kid

-- name: set_webhook_secret
-- Store a webhook secret sealed anew.
UPDATE webhooks SET secret = :secret WHERE id = :id

-- == groups of people ==

-- name: get_group
-- One group (its people apart).
SELECT id, name, parent_id FROM person_groups WHERE tenant = :tenant AND kind = :kind AND id = :id

-- name: upsert_group
-- Create or replace a group (its people apart).
INSERT INTO person_groups (tenant, kind, id, name, parent_id)
VALUES (:tenant, :kind, :id, :name, :parent_id)
ON CONFLICT (tenant, kind, id) DO UPDATE SET name = excluded.name, parent_id = excluded.parent_id

-- name: group_members
-- A group's people.
SELECT person_id FROM person_group_members
WHERE tenant = :tenant AND kind = :kind AND group_id = :id
ORDER BY person_id

-- name: delete_group_members
-- Remove a group's people.
DELETE FROM person_group_members WHERE tenant = :tenant AND kind = :kind AND group_id = :id

-- name: group_has_children
-- Whether org-groups hang below the group.
SELECT EXISTS (
    SELECT 1 FROM person_groups WHERE tenant = :tenant AND kind = :kind AND parent_id = :id
)

-- name: delete_group
-- Delete a group.
DELETE FROM person_groups WHERE tenant = :tenant AND kind = :kind AND id = :id

-- == the console and the delivery portal ==

-- name: insert_operator
-- Store an operator account; nothing when the name is taken.
INSERT INTO operators (name, password_hash, created_at)
VALUES (:name, :password_hash, :created_at)
ON CONFLICT (name) DO NOTHING

-- name: get_operator
-- An operator by name.
SELECT * FROM operators WHERE name = :name

-- name: set_operator_password
-- Replace an operator's password hash.
UPDATE operators SET password_hash = :password_hash WHERE name = :name

-- name: session_live
-- Whether a session is kept, not ended and not expired (a primary-key read).
SELECT 1 FROM console_sessions WHERE id = :id AND ended_at IS NULL AND expires_at > :now

-- name: live_sessions
-- An actor's sessions neither ended nor expired, newest first.
SELECT * FROM console_sessions
WHERE actor = :actor AND ended_at IS NULL AND expires_at > :now
ORDER BY created_at DESC, id

-- name: insert_audit
-- Append one entry to the audit log.
INSERT INTO audit_log (at, actor, action, tenant, webhook_id, detail)
VALUES (:at, :actor, :action, :tenant, :webhook_id, :detail)

-- name: disable_webhook
-- Disable an enabled live webhook for good, with the operator's reason.
UPDATE webhooks SET status = 'Disabled', disabled_reason = :reason, next_attempt_at = NULL
WHERE tenant = :tenant AND id = :id AND status = 'Enabled' AND deleted_at IS NULL

-- name: retry_webhook_now
-- Cut a webhook's back-off short: a retry time after :now becomes :now.
UPDATE webhooks SET next_attempt_at = :now
WHERE tenant = :tenant AND id = :id AND next_attempt_at > :now

-- name: rewind_webhook
-- Move a webhook's cursor (back) to :cursor.
UPDATE webhooks SET cursor = :cursor
WHERE tenant = :tenant AND id = :id

-- name: record_version
-- A work interruption's current change version, tombstone included.
SELECT change_version FROM work_interruptions WHERE tenant = :tenant AND id = :id

-- name: lag_samples
-- The lag samples of the minutes since :since, oldest first (over the primary key).
SELECT minute, lag_seconds, behind FROM lag_samples WHERE minute >= :since ORDER BY minute

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

-- name: purge_lag_samples
-- Forget the lag samples of the minutes before :before.
DELETE FROM lag_samples WHERE minute < :before

-- name: test_event_slots
-- When the webhook's test events within the window (since :since) were taken.
SELECT taken_at FROM test_event_slots WHERE webhook_id = :webhook_id AND taken_at > :since
ORDER BY taken_at

-- name: purge_test_event_slots
-- Forget the webhook's slots that have left the window.
DELETE FROM test_event_slots WHERE webhook_id = :webhook_id AND taken_at <= :since

-- name: insert_test_event_slot
-- Take one test-event slot of the webhook.
INSERT INTO test_event_slots (webhook_id, taken_at) VALUES (:webhook_id, :taken_at)
