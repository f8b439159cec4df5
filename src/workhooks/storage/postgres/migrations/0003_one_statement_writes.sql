-- Writes in one statement each. A writer holds its tenant's counter row only while the
-- server runs the write and commits it (one client round trip), never across round trips:
-- more writers of one tenant no longer queue behind each other's network latency.
--
-- Each function locks the counter row first. In READ COMMITTED every statement of a
-- PL/pgSQL function takes a fresh snapshot, so what a function reads after the lock
-- includes everything earlier writers of the tenant committed (a person deleted before us,
-- a record created before us): versions are handed out and committed in the same order,
-- and a reader that has seen version V never later finds a newly committed change below V.
--
-- Wake-ups are no longer part of a write: a NOTIFY in a writing transaction serialises the
-- commits of every notifying transaction in the cluster. workhooks_announce sends them
-- after the write has committed, coalesced per process (see PostgresStore).

CREATE FUNCTION workhooks_lock_tenant(p_tenant TEXT) RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    head BIGINT;
BEGIN
    SELECT t.head_version INTO head FROM tenants AS t WHERE t.tenant = p_tenant FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO tenants (tenant, head_version) VALUES (p_tenant, 0)
        ON CONFLICT (tenant) DO NOTHING;
        SELECT t.head_version INTO head FROM tenants AS t WHERE t.tenant = p_tenant FOR UPDATE;
    END IF;
    RETURN head;
END
$$;

-- Reserve p_count versions of a locked tenant; p_work marks a write of work interruptions,
-- which raises work_interruptions_head and so unsettles the tenant (see the due set).
CREATE FUNCTION workhooks_take_versions(p_tenant TEXT, p_count BIGINT, p_work BOOLEAN)
RETURNS BIGINT
LANGUAGE sql AS $$
    UPDATE tenants SET
        head_version = head_version + p_count,
        work_interruptions_head = CASE WHEN p_work THEN head_version + p_count
            ELSE work_interruptions_head END
    WHERE tenant = p_tenant
    RETURNING head_version - p_count + 1
$$;

-- Upsert people. p_people holds the last draft per id, each with its position n in the
-- whole batch (p_count drafts): its version is first + n. Answers ('first', first version)
-- and ('live', id) for every id that was live before (updated rather than created).
CREATE FUNCTION workhooks_put_people(p_tenant TEXT, p_count BIGINT, p_people JSONB)
RETURNS TABLE (kind TEXT, value BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    v_first BIGINT;
BEGIN
    PERFORM workhooks_lock_tenant(p_tenant);
    RETURN QUERY
        SELECT 'live'::TEXT, p.id FROM people AS p
        WHERE p.tenant = p_tenant AND NOT p.deleted
            AND p.id IN (SELECT (x ->> 'id')::BIGINT FROM jsonb_array_elements(p_people) AS x);
    v_first := workhooks_take_versions(p_tenant, p_count, false);
    INSERT INTO people (tenant, id, badge_number, employee_number, change_version, deleted)
    SELECT p_tenant, x.id, x.badge_number, x.employee_number, v_first + x.n, false
    FROM jsonb_to_recordset(p_people)
        AS x(n BIGINT, id BIGINT, badge_number TEXT, employee_number TEXT)
    ON CONFLICT (tenant, id) DO UPDATE SET
        badge_number = excluded.badge_number,
        employee_number = excluded.employee_number,
        change_version = excluded.change_version,
        deleted = false;
    RETURN QUERY SELECT 'first'::TEXT, v_first;
END
$$;

-- Upsert work interruptions (p_records as for people). When a person of the batch
-- (p_people) is missing, nothing is written and only ('missing', id) rows are answered.
CREATE FUNCTION workhooks_put_work_interruptions(
    p_tenant TEXT, p_count BIGINT, p_records JSONB, p_people BIGINT[]
)
RETURNS TABLE (kind TEXT, value BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    v_first BIGINT;
BEGIN
    PERFORM workhooks_lock_tenant(p_tenant);
    RETURN QUERY
        SELECT 'missing'::TEXT, wanted.id FROM unnest(p_people) AS wanted(id)
        WHERE NOT EXISTS (
            SELECT 1 FROM people AS p
            WHERE p.tenant = p_tenant AND p.id = wanted.id AND NOT p.deleted
        );
    IF FOUND THEN
        RETURN;
    END IF;
    RETURN QUERY
        SELECT 'live'::TEXT, w.id FROM work_interruptions AS w
        WHERE w.tenant = p_tenant AND NOT w.deleted
            AND w.id IN (SELECT (x ->> 'id')::BIGINT FROM jsonb_array_elements(p_records) AS x);
    v_first := workhooks_take_versions(p_tenant, p_count, true);
    INSERT INTO work_interruptions (tenant, id, person_id, date, duration_in_minutes,
        start_time_in_minutes, end_time_in_minutes, change_version, deleted)
    SELECT p_tenant, x.id, x.person_id, x.date, x.duration_in_minutes, x.start_time_in_minutes,
        x.end_time_in_minutes, v_first + x.n, false
    FROM jsonb_to_recordset(p_records) AS x(n BIGINT, id BIGINT, person_id BIGINT, date DATE,
        duration_in_minutes INTEGER, start_time_in_minutes INTEGER, end_time_in_minutes INTEGER)
    ON CONFLICT (tenant, id) DO UPDATE SET
        person_id = excluded.person_id,
        date = excluded.date,
        duration_in_minutes = excluded.duration_in_minutes,
        start_time_in_minutes = excluded.start_time_in_minutes,
        end_time_in_minutes = excluded.end_time_in_minutes,
        change_version = excluded.change_version,
        deleted = false;
    RETURN QUERY SELECT 'first'::TEXT, v_first;
END
$$;

-- Tombstone a live person no live work interruption refers to. Answers one row:
-- ('deleted', version), ('in_use', NULL) or ('missing', NULL).
CREATE FUNCTION workhooks_delete_person(p_tenant TEXT, p_id BIGINT)
RETURNS TABLE (kind TEXT, value BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    v_version BIGINT;
BEGIN
    PERFORM workhooks_lock_tenant(p_tenant);
    PERFORM 1 FROM people AS p WHERE p.tenant = p_tenant AND p.id = p_id AND NOT p.deleted;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'missing'::TEXT, NULL::BIGINT;
        RETURN;
    END IF;
    PERFORM 1 FROM work_interruptions AS w
    WHERE w.tenant = p_tenant AND w.person_id = p_id AND NOT w.deleted;
    IF FOUND THEN
        RETURN QUERY SELECT 'in_use'::TEXT, NULL::BIGINT;
        RETURN;
    END IF;
    v_version := workhooks_take_versions(p_tenant, 1, false);
    UPDATE people AS p SET badge_number = NULL, employee_number = NULL,
        change_version = v_version, deleted = true
    WHERE p.tenant = p_tenant AND p.id = p_id;
    DELETE FROM person_references AS r WHERE r.tenant = p_tenant AND r.person_id = p_id;
    RETURN QUERY SELECT 'deleted'::TEXT, v_version;
END
$$;

-- Replace a live work interruption by its tombstone; answers the tombstone, or no row.
CREATE FUNCTION workhooks_delete_work_interruption(p_tenant TEXT, p_id BIGINT)
RETURNS TABLE (id BIGINT, person_id BIGINT, date DATE, duration_in_minutes INTEGER,
    start_time_in_minutes INTEGER, end_time_in_minutes INTEGER, change_version BIGINT,
    deleted BOOLEAN)
LANGUAGE plpgsql AS $$
DECLARE
    v_version BIGINT;
BEGIN
    PERFORM workhooks_lock_tenant(p_tenant);
    PERFORM 1 FROM work_interruptions AS w
    WHERE w.tenant = p_tenant AND w.id = p_id AND NOT w.deleted;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    v_version := workhooks_take_versions(p_tenant, 1, true);
    RETURN QUERY
        UPDATE work_interruptions AS w SET change_version = v_version, deleted = true
        WHERE w.tenant = p_tenant AND w.id = p_id
        RETURNING w.id, w.person_id, w.date, w.duration_in_minutes, w.start_time_in_minutes,
            w.end_time_in_minutes, w.change_version, w.deleted;
END
$$;

-- Wake the listening workers of every process for these tenants. Sent after the writes
-- have committed, in a transaction of its own that does not wait for its WAL flush (a
-- lost notification costs one poll interval, never a change).
CREATE FUNCTION workhooks_announce(p_tenants TEXT[]) RETURNS VOID
LANGUAGE plpgsql AS $$
DECLARE
    v_tenant TEXT;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    FOREACH v_tenant IN ARRAY p_tenants LOOP
        PERFORM pg_notify('workhooks_changes', v_tenant);
    END LOOP;
END
$$;
