-- SQLite's own delivery statements: one deliverer per database file, so no leases.

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
