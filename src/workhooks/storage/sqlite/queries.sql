-- Named queries of SqliteStore; parameters are named (:name).

-- name: next_version
-- Reserve :count versions; a write of work interruptions (:work) also raises the tenant's
-- work_interruptions_head, which unsettles the tenant (see due_webhooks).
INSERT INTO tenants (tenant, head_version, work_interruptions_head)
VALUES (:tenant, :count, CASE WHEN :work THEN :count ELSE 0 END)
ON CONFLICT (tenant) DO UPDATE SET
    head_version = head_version + :count,
    work_interruptions_head = CASE WHEN :work THEN head_version + :count
        ELSE work_interruptions_head END
RETURNING head_version

-- name: head_version
SELECT head_version FROM tenants WHERE tenant = :tenant

-- name: insert_client
INSERT INTO clients (id, tenant, secret_hash, scopes, created_at)
VALUES (:id, :tenant, :secret_hash, :scopes, :created_at)

-- name: get_client
SELECT id, tenant, secret_hash, scopes, created_at, revoked_at FROM clients WHERE id = :id

-- name: insert_signing_key_if_none
INSERT INTO signing_keys (kid, private_key, created_at)
SELECT :kid, :private_key, :created_at WHERE NOT EXISTS (SELECT 1 FROM signing_keys)

-- name: get_signing_key
SELECT kid, private_key, created_at FROM signing_keys ORDER BY created_at, kid LIMIT 1

-- name: get_person_any
SELECT id, badge_number, employee_number, change_version, deleted
FROM people WHERE tenant = :tenant AND id = :id

-- name: upsert_person
INSERT INTO people (tenant, id, badge_number, employee_number, change_version, deleted)
VALUES (:tenant, :id, :badge_number, :employee_number, :change_version, 0)
ON CONFLICT (tenant, id) DO UPDATE SET
    badge_number = excluded.badge_number,
    employee_number = excluded.employee_number,
    change_version = excluded.change_version,
    deleted = 0

-- name: tombstone_person
UPDATE people SET badge_number = NULL, employee_number = NULL,
    change_version = :change_version, deleted = 1
WHERE tenant = :tenant AND id = :id

-- name: delete_person_references
DELETE FROM person_references WHERE tenant = :tenant AND person_id = :id

-- name: person_in_use
SELECT 1 FROM work_interruptions
WHERE tenant = :tenant AND person_id = :id AND deleted = 0 LIMIT 1

-- name: get_work_interruption_any
SELECT id, person_id, date, duration_in_minutes, start_time_in_minutes, end_time_in_minutes,
    change_version, deleted
FROM work_interruptions WHERE tenant = :tenant AND id = :id

-- name: upsert_work_interruption
INSERT INTO work_interruptions (tenant, id, person_id, date, duration_in_minutes,
    start_time_in_minutes, end_time_in_minutes, change_version, deleted)
VALUES (:tenant, :id, :person_id, :date, :duration_in_minutes,
    :start_time_in_minutes, :end_time_in_minutes, :change_version, 0)
ON CONFLICT (tenant, id) DO UPDATE SET
    person_id = excluded.person_id,
    date = excluded.date,
    duration_in_minutes = excluded.duration_in_minutes,
    start_time_in_minutes = excluded.start_time_in_minutes,
    end_time_in_minutes = excluded.end_time_in_minutes,
    change_version = excluded.change_version,
    deleted = 0

-- name: tombstone_work_interruption
UPDATE work_interruptions SET change_version = :change_version, deleted = 1
WHERE tenant = :tenant AND id = :id

-- name: read_changes
SELECT id, person_id, date, duration_in_minutes, start_time_in_minutes, end_time_in_minutes,
    change_version, deleted
FROM work_interruptions
WHERE tenant = :tenant AND change_version > :after
ORDER BY change_version
LIMIT :limit

-- name: insert_webhook
INSERT INTO webhooks (id, tenant, destination_url, collection, secret, status, created_at,
    valid_until, cursor, external_references)
VALUES (:id, :tenant, :destination_url, :collection, :secret, 'Enabled', :created_at,
    :valid_until, COALESCE((SELECT head_version FROM tenants WHERE tenant = :tenant), 0),
    :external_references)

-- name: get_webhook
SELECT * FROM webhooks WHERE tenant = :tenant AND id = :id

-- name: list_webhooks
SELECT * FROM webhooks WHERE tenant = :tenant AND deleted_at IS NULL ORDER BY created_at, id

-- name: delete_webhook
UPDATE webhooks SET deleted_at = :at
WHERE tenant = :tenant AND id = :id AND deleted_at IS NULL

-- name: count_enabled_webhooks
SELECT COUNT(*) FROM webhooks
WHERE tenant = :tenant AND status = 'Enabled' AND deleted_at IS NULL

-- name: due_webhooks
-- Webhooks with a work interruption to send that may send it now, found in two places only:
-- unsettled tenants whose cursor is below the tenant's head, and webhooks whose retry time
-- has come; both through partial indexes, so idle webhooks are never read. Unsettled
-- tenants are taken in rotation: up to :limit of them with something to claim, in name
-- order after :after (where the worker's previous search stopped), then from the start;
-- each gives at most :limit webhooks, the most behind first, off the (tenant, cursor, id)
-- index. So a search costs what it returns, not the number of tenants with work.
-- Tenants take turns in the answer: each tenant's first webhook comes before any tenant's
-- second. :holding (a JSON array) names webhooks this worker holds already, :full the
-- tenants it holds enough of.
WITH held AS (
    SELECT value AS id FROM json_each(:holding)
), full_tenants AS (
    SELECT value AS tenant FROM json_each(:full)
), later AS (
    SELECT t.tenant, t.work_interruptions_head FROM tenants AS t
    WHERE t.work_interruptions_head > t.settled_head AND t.tenant > :after
        AND t.tenant NOT IN full_tenants
        AND EXISTS (
            SELECT 1 FROM webhooks AS x
            WHERE x.tenant = t.tenant AND x.status = 'Enabled' AND x.deleted_at IS NULL
                AND x.cursor < t.work_interruptions_head
                AND (x.next_attempt_at IS NULL OR x.next_attempt_at <= :now)
                AND x.valid_until > :now AND x.id NOT IN held
        )
    ORDER BY t.tenant
    LIMIT :limit
), earlier AS (
    SELECT t.tenant, t.work_interruptions_head FROM tenants AS t
    WHERE t.work_interruptions_head > t.settled_head AND t.tenant <= :after
        AND t.tenant NOT IN full_tenants
        AND EXISTS (
            SELECT 1 FROM webhooks AS x
            WHERE x.tenant = t.tenant AND x.status = 'Enabled' AND x.deleted_at IS NULL
                AND x.cursor < t.work_interruptions_head
                AND (x.next_attempt_at IS NULL OR x.next_attempt_at <= :now)
                AND x.valid_until > :now AND x.id NOT IN held
        )
    ORDER BY t.tenant
    LIMIT :limit
), picked AS (
    SELECT tenant, work_interruptions_head, 0 AS lap FROM later
    UNION ALL
    SELECT tenant, work_interruptions_head, 1 AS lap FROM earlier
), candidates AS (
    SELECT w.id, w.tenant, w.cursor, t.lap FROM picked AS t JOIN webhooks AS w ON w.id IN (
        SELECT x.id FROM webhooks AS x
        WHERE x.tenant = t.tenant AND x.status = 'Enabled' AND x.deleted_at IS NULL
                AND x.cursor < t.work_interruptions_head
                AND (x.next_attempt_at IS NULL OR x.next_attempt_at <= :now)
                AND x.valid_until > :now AND x.id NOT IN held
        ORDER BY x.cursor, x.id
        LIMIT :limit
    )
    UNION
    SELECT w.id, w.tenant, w.cursor, 0 AS lap FROM webhooks AS w
    JOIN tenants AS t ON t.tenant = w.tenant
    WHERE w.status = 'Enabled' AND w.deleted_at IS NULL AND w.next_attempt_at IS NOT NULL
        AND w.next_attempt_at <= :now AND w.cursor < t.work_interruptions_head
        AND w.valid_until > :now AND w.id NOT IN held AND w.tenant NOT IN full_tenants
), turns AS (
    SELECT c.id, c.lap, row_number() OVER (PARTITION BY c.tenant ORDER BY c.cursor, c.id) AS turn
    FROM candidates AS c
)
SELECT w.* FROM turns JOIN webhooks AS w ON w.id = turns.id
ORDER BY turns.turn, turns.lap, w.tenant, w.id
LIMIT :limit

-- name: settle_tenants
-- A tenant is settled when none of its enabled webhooks that may send now is behind its
-- head; webhooks backing off are found through their retry time instead.
UPDATE tenants SET settled_head = work_interruptions_head
WHERE work_interruptions_head > settled_head
    AND NOT EXISTS (
        SELECT 1 FROM webhooks AS w
        WHERE w.tenant = tenants.tenant AND w.status = 'Enabled' AND w.deleted_at IS NULL
            AND w.cursor < tenants.work_interruptions_head
            AND (w.next_attempt_at IS NULL OR w.next_attempt_at <= :now)
    )

-- name: unsettle_tenants
-- A webhook that leaves back-off still behind makes its tenant unsettled again. :outcomes
-- as in apply_windows; lowering settled_head for an outcome that did not land is harmless
-- (it only makes the next search look at the tenant).
UPDATE tenants SET settled_head = o.cursor
FROM (
    SELECT json_extract(value, '$[1]') AS tenant, MIN(json_extract(value, '$[3]')) AS cursor
    FROM json_each(:outcomes)
    WHERE json_extract(value, '$[5]') IS NULL AND json_extract(value, '$[6]') IS NULL
    GROUP BY 1
) AS o
WHERE tenants.tenant = o.tenant AND tenants.settled_head > o.cursor
    AND tenants.work_interruptions_head > o.cursor

-- name: disable_expired
-- Through the partial expiry index (the planner would otherwise read every enabled webhook).
UPDATE webhooks INDEXED BY webhooks_expiry SET status = 'Disabled', disabled_reason = 'expired'
WHERE status = 'Enabled' AND valid_until <= :now

-- name: apply_windows
-- One statement for a batch of windows: move each cursor (compare-and-set) and store the
-- back-off state. :outcomes is a JSON array of arrays, each [webhook_id, tenant,
-- expected_cursor, cursor, failures, next_attempt_at, disabled_reason, caught_up_at].
-- Returns the webhooks that moved and whether each may send on.
UPDATE webhooks SET cursor = o.cursor, failures = o.failures,
    next_attempt_at = o.next_attempt_at,
    status = CASE WHEN o.disabled_reason IS NULL THEN webhooks.status ELSE 'Disabled' END,
    disabled_reason = COALESCE(o.disabled_reason, webhooks.disabled_reason),
    caught_up_at = COALESCE(o.caught_up_at, webhooks.caught_up_at)
FROM (
    SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[2]') AS expected_cursor,
        json_extract(value, '$[3]') AS cursor, json_extract(value, '$[4]') AS failures,
        json_extract(value, '$[5]') AS next_attempt_at,
        json_extract(value, '$[6]') AS disabled_reason,
        json_extract(value, '$[7]') AS caught_up_at
    FROM json_each(:outcomes)
) AS o
WHERE webhooks.id = o.id AND webhooks.cursor = o.expected_cursor
RETURNING webhooks.id, webhooks.status = 'Enabled' AND webhooks.deleted_at IS NULL AS active

-- name: insert_attempts
-- One statement per window: the attempts arrive as one JSON array of arrays, each
-- [webhook_id, message_id, record_id, change_version, attempted_at, succeeded, status_code,
--  latency_ms, error_class, response_excerpt, next_attempt_at] (positions parse faster
-- than keys).
INSERT INTO delivery_attempts (webhook_id, message_id, record_id, change_version, attempted_at,
    succeeded, status_code, latency_ms, error_class, response_excerpt, next_attempt_at)
SELECT
    json_extract(value, '$[0]'),
    json_extract(value, '$[1]'),
    json_extract(value, '$[2]'),
    json_extract(value, '$[3]'),
    json_extract(value, '$[4]'),
    json_extract(value, '$[5]'),
    json_extract(value, '$[6]'),
    json_extract(value, '$[7]'),
    json_extract(value, '$[8]'),
    json_extract(value, '$[9]'),
    json_extract(value, '$[10]')
FROM json_each(:attempts)

-- name: upsert_deliveries
-- The same JSON array keeps one summary row per event current ("WHERE true" lets SQLite
-- parse an upsert fed by a SELECT).
INSERT INTO deliveries (webhook_id, message_id, record_id, change_version, status, attempts,
    first_attempt_at, last_attempt_at, last_status_code, last_error_class, next_attempt_at)
SELECT
    json_extract(value, '$[0]'),
    json_extract(value, '$[1]'),
    json_extract(value, '$[2]'),
    json_extract(value, '$[3]'),
    CASE WHEN json_extract(value, '$[5]') THEN 'Succeeded' ELSE 'Failed' END,
    1,
    json_extract(value, '$[4]'),
    json_extract(value, '$[4]'),
    json_extract(value, '$[6]'),
    json_extract(value, '$[8]'),
    json_extract(value, '$[10]')
FROM json_each(:attempts) WHERE true
ON CONFLICT (webhook_id, message_id) DO UPDATE SET
    status = excluded.status,
    attempts = attempts + 1,
    last_attempt_at = excluded.last_attempt_at,
    last_status_code = excluded.last_status_code,
    last_error_class = excluded.last_error_class,
    next_attempt_at = excluded.next_attempt_at

-- name: list_attempts
SELECT * FROM delivery_attempts WHERE webhook_id = :webhook_id ORDER BY id DESC LIMIT :limit

-- name: list_deliveries
SELECT * FROM deliveries
WHERE webhook_id = :webhook_id
    AND (:statuses IS NULL OR status IN (SELECT value FROM json_each(:statuses)))
    AND (:since IS NULL OR last_attempt_at >= :since)
    AND (:until IS NULL OR last_attempt_at <= :until)
    AND (:after_at IS NULL OR (last_attempt_at, message_id) < (:after_at, :after_id))
ORDER BY last_attempt_at DESC, message_id DESC
LIMIT :limit

-- name: get_delivery
SELECT * FROM deliveries WHERE webhook_id = :webhook_id AND message_id = :message_id

-- name: delivery_attempts
SELECT * FROM delivery_attempts
WHERE webhook_id = :webhook_id AND message_id = :message_id
ORDER BY id

-- name: purge_attempts
DELETE FROM delivery_attempts WHERE attempted_at < :before

-- name: purge_deliveries
DELETE FROM deliveries WHERE last_attempt_at < :before

-- name: webhooks_by_status
SELECT status, COUNT(*) AS count FROM webhooks WHERE deleted_at IS NULL GROUP BY status

-- name: webhooks_behind
-- Enabled webhooks behind their tenant's head or failing, the longest behind first: only
-- unsettled tenants' webhooks and webhooks with a retry time can be, so the others are
-- never read. The first row also carries how many there are of each.
WITH found AS (
    SELECT w.id FROM tenants AS t INDEXED BY tenants_unsettled
    CROSS JOIN webhooks AS w INDEXED BY webhooks_cursor
    WHERE w.tenant = t.tenant AND t.work_interruptions_head > t.settled_head
        AND w.status = 'Enabled' AND w.deleted_at IS NULL
        AND w.cursor < t.work_interruptions_head
    UNION
    SELECT w.id FROM webhooks AS w INDEXED BY webhooks_retry
    WHERE w.status = 'Enabled' AND w.deleted_at IS NULL AND w.next_attempt_at IS NOT NULL
), measured AS (
    SELECT w.id, w.tenant, w.created_at, w.caught_up_at, w.failures,
        MAX(t.work_interruptions_head - w.cursor, 0) AS changes_behind
    FROM found AS f JOIN webhooks AS w ON w.id = f.id JOIN tenants AS t ON t.tenant = w.tenant
)
SELECT *,
    (SELECT COUNT(*) FROM measured WHERE changes_behind > 0) AS behind,
    (SELECT COUNT(*) FROM measured WHERE failures > 0) AS failing
FROM measured
ORDER BY COALESCE(caught_up_at, created_at), id
LIMIT MAX(:limit, 1)

-- name: list_work_interruptions
SELECT id, person_id, date, duration_in_minutes, start_time_in_minutes, end_time_in_minutes,
    change_version, deleted
FROM work_interruptions
WHERE tenant = :tenant AND deleted = 0 AND date >= :date_from AND date <= :date_to
    AND (:persons IS NULL OR person_id IN (SELECT value FROM json_each(:persons)))
    AND (:after_date IS NULL OR (date, id) > (:after_date, :after_id))
ORDER BY date, id
LIMIT :limit

-- name: predefined_references
SELECT id, badge_number, employee_number FROM people
WHERE tenant = :tenant AND deleted = 0 AND id IN (SELECT value FROM json_each(:ids))

-- name: custom_references
SELECT person_id, key, value FROM person_references
WHERE tenant = :tenant
    AND person_id IN (SELECT value FROM json_each(:ids))
    AND key IN (SELECT value FROM json_each(:keys))

-- name: person_custom_references
SELECT key, value FROM person_references WHERE tenant = :tenant AND person_id = :id ORDER BY key

-- name: reference_owner
SELECT person_id FROM person_references WHERE tenant = :tenant AND key = :key AND value = :value

-- name: upsert_person_reference
INSERT INTO person_references (tenant, person_id, key, value) VALUES (:tenant, :id, :key, :value)
ON CONFLICT (tenant, person_id, key) DO UPDATE SET value = excluded.value

-- name: delete_person_reference
DELETE FROM person_references WHERE tenant = :tenant AND person_id = :id AND key = :key

-- name: list_clients
SELECT id, tenant, secret_hash, scopes, created_at, revoked_at FROM clients
WHERE :tenant IS NULL OR tenant = :tenant
ORDER BY tenant, created_at, id

-- name: revoke_client
UPDATE clients SET revoked_at = coalesce(revoked_at, :at) WHERE id = :id

-- name: set_client_secret
UPDATE clients SET secret_hash = :secret_hash WHERE id = :id AND revoked_at IS NULL

-- name: insert_signing_key
INSERT INTO signing_keys (kid, private_key, created_at) VALUES (:kid, :private_key, :created_at)

-- name: list_signing_keys
SELECT kid, private_key, created_at FROM signing_keys ORDER BY created_at, kid

-- name: set_signing_key_seal
UPDATE signing_keys SET private_key = :private_key WHERE kid = :kid

-- name: webhook_secret_prefixes
SELECT DISTINCT substr(secret, 1, :size) AS prefix FROM webhooks

-- name: webhook_secrets_not_starting
SELECT id, secret FROM webhooks WHERE substr(secret, 1, length(:prefix)) <> :prefix

-- name: set_webhook_secret
UPDATE webhooks SET secret = :secret WHERE id = :id
