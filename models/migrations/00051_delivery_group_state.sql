-- +goose Up
-- What the retry rules need of each (subject, destination) group, kept on
-- its audit_delivery_groups row, so a worker run reads one row per open
-- group instead of every failed delivery. A success closes every failure
-- created before it (ordered by created_at, then id):
--   failure_count    completed failed deliveries after the latest success
--   last_failure_*   the newest of them; last_failure_at is its completion
--   in_flight_since  start of the newest in-flight retry delivery after the
--                    latest success
--   subject_key      the report id or alert fingerprint of the group
ALTER TABLE audit_delivery_groups ADD COLUMN subject_key TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_delivery_groups ADD COLUMN failure_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit_delivery_groups ADD COLUMN last_failure_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_delivery_groups ADD COLUMN last_failure_at {{.Timestamp}};
ALTER TABLE audit_delivery_groups ADD COLUMN last_error_class TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_delivery_groups ADD COLUMN last_status_code INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit_delivery_groups ADD COLUMN last_retry_after {{.Timestamp}};
ALTER TABLE audit_delivery_groups ADD COLUMN last_idempotency_key TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_delivery_groups ADD COLUMN in_flight_since {{.Timestamp}};

-- A worker run takes the groups whose latest failure is oldest first.
CREATE INDEX audit_delivery_groups_open ON audit_delivery_groups (subject_kind, last_failure_at, last_failure_id)
WHERE failure_count > 0;

{{if .PostgreSQL}}
-- The row-level triggers of the audit counts are replaced by statement-level
-- ones that read the changed rows from transition tables, so a statement
-- that writes many rows appends one delta per counter and refreshes each
-- touched group once.
DROP TRIGGER retry_executions_audit_group_update ON retry_executions;
DROP TRIGGER retry_executions_audit_group_insert ON retry_executions;
DROP TRIGGER deliveries_audit_group_update ON deliveries;
DROP TRIGGER deliveries_audit_group_insert ON deliveries;
DROP TRIGGER health_snapshots_audit_count ON health_snapshots;
DROP TRIGGER alert_plans_audit_count ON alert_plans;
DROP TRIGGER alert_plan_destinations_audit_count ON alert_plan_destinations;
DROP TRIGGER alert_acknowledgements_audit_count ON alert_acknowledgements;
DROP TRIGGER alert_acknowledgement_states_audit_count ON alert_acknowledgement_states;
DROP TRIGGER executive_reports_audit_count ON executive_reports;
DROP TRIGGER executive_schedule_runs_audit_count ON executive_schedule_runs;
DROP TRIGGER deliveries_audit_count ON deliveries;
DROP TRIGGER retry_plans_audit_count ON retry_plans;
DROP TRIGGER retry_decisions_audit_count ON retry_decisions;
DROP TRIGGER retry_worker_runs_audit_count ON retry_worker_runs;
DROP TRIGGER retry_executions_audit_count ON retry_executions;

-- audit_count_changes appends, per counter, the net change of one
-- statement. Its arguments come in pairs: an SQL expression over a row's
-- columns that names the counter, and one that gives the amount each row
-- adds. New rows add it and old rows take it away. A trigger may name a
-- transition table for one event only, so each table has one trigger per
-- event, all calling this.
-- +goose StatementBegin
CREATE FUNCTION audit_count_changes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    parts TEXT[] := '{}';
BEGIN
    FOR i IN 0 .. TG_NARGS / 2 - 1 LOOP
        IF TG_OP <> 'DELETE' THEN
            parts := parts || format('SELECT %s AS name, (%s)::bigint AS delta FROM new_rows', TG_ARGV[2 * i], TG_ARGV[2 * i + 1]);
        END IF;
        IF TG_OP <> 'INSERT' THEN
            parts := parts || format('SELECT %s AS name, -(%s)::bigint AS delta FROM old_rows', TG_ARGV[2 * i], TG_ARGV[2 * i + 1]);
        END IF;
    END LOOP;
    EXECUTE 'INSERT INTO audit_count_deltas (name, delta) SELECT name, SUM(delta) FROM ('
        || array_to_string(parts, ' UNION ALL ')
        || ') changes WHERE name IS NOT NULL GROUP BY name HAVING SUM(delta) <> 0';
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- audit_refresh_groups recomputes the given groups from their rows. It
-- first creates and locks the group rows in key order, so two transactions
-- refreshing overlapping groups wait for each other instead of deadlocking.
-- The recompute is a later statement, so under READ COMMITTED it sees every
-- change committed before the locks were granted. Sequential and bitmap
-- scans are off inside it: before the tables have statistics, the planner
-- would otherwise scan the whole table, or combine the kind and connector
-- indexes, for each group instead of taking the group's own index entries.
-- +goose StatementBegin
CREATE FUNCTION audit_refresh_groups(kinds TEXT[], subjects TEXT[], conns TEXT[]) RETURNS void LANGUAGE plpgsql
SET enable_seqscan = off SET enable_bitmapscan = off AS $$
BEGIN
    INSERT INTO audit_delivery_groups (subject_kind, subject_id, connector)
    SELECT DISTINCT k.subject_kind, k.subject_id, k.connector FROM unnest(kinds, subjects, conns) AS k(subject_kind, subject_id, connector)
    ORDER BY 1, 2, 3
    ON CONFLICT DO NOTHING;
    PERFORM 1 FROM audit_delivery_groups g
    WHERE (g.subject_kind, g.subject_id, g.connector) IN (SELECT * FROM unnest(kinds, subjects, conns))
    ORDER BY g.subject_kind, g.subject_id, g.connector
    FOR UPDATE;

    WITH keys AS (
        SELECT DISTINCT k.subject_kind, k.subject_id, k.connector FROM unnest(kinds, subjects, conns) AS k(subject_kind, subject_id, connector)
    ), fresh AS (
        -- Each lookup below is a probe of one group's entries in the
        -- (subject_kind, subject_id, connector, created_at) index.
        SELECT g.subject_kind, g.subject_id, g.connector, g.open_failure AS old_open, g.open_executions AS old_executions,
            COALESCE(lf.subject_key, g.subject_key) AS subject_key,
            COALESCE(open_rows.failure_count, 0) AS failure_count,
            COALESCE(lf.id, '') AS last_failure_id, COALESCE(lf.completed_at, lf.created_at) AS last_failure_at,
            COALESCE(lf.error_class, '') AS last_error_class, COALESCE(lf.status_code, 0) AS last_status_code,
            lf.retry_after AS last_retry_after, COALESCE(lf.idempotency_key, '') AS last_idempotency_key,
            open_rows.in_flight_since,
            (SELECT COUNT(*) FROM retry_executions x
             WHERE x.subject_kind = k.subject_kind AND x.subject_id = k.subject_id AND x.connector = k.connector
               AND x.outcome IN ('failed', 'skipped')
               AND NOT EXISTS (SELECT 1 FROM deliveries later
                   WHERE later.subject_kind = x.subject_kind AND later.subject_id = x.subject_id AND later.connector = x.connector
                     AND later.success AND later.created_at > x.started_at)) AS open_executions
        FROM keys k
        JOIN audit_delivery_groups g ON g.subject_kind = k.subject_kind AND g.subject_id = k.subject_id AND g.connector = k.connector
        LEFT JOIN LATERAL (SELECT s.created_at, s.id FROM deliveries s
            WHERE s.subject_kind = k.subject_kind AND s.subject_id = k.subject_id AND s.connector = k.connector AND s.success
            ORDER BY s.created_at DESC, s.id DESC LIMIT 1) ls ON true
        LEFT JOIN LATERAL (SELECT COUNT(*) FILTER (WHERE d.state = 'completed' AND NOT d.success) AS failure_count,
                (array_agg(d.id ORDER BY d.created_at DESC, d.id DESC) FILTER (WHERE d.state = 'completed' AND NOT d.success))[1] AS last_failure_id,
                (array_agg(d.started_at ORDER BY d.created_at DESC, d.id DESC) FILTER (WHERE d.state = 'in_flight' AND d.origin = 'retry'))[1] AS in_flight_since
            FROM deliveries d
            WHERE d.subject_kind = k.subject_kind AND d.subject_id = k.subject_id AND d.connector = k.connector
              AND (ls.id IS NULL OR (d.created_at, d.id) > (ls.created_at, ls.id))) open_rows ON true
        LEFT JOIN deliveries lf ON lf.id = open_rows.last_failure_id
    ), changed AS (
        UPDATE audit_delivery_groups g SET
            open_failure = CASE WHEN f.failure_count > 0 THEN 1 ELSE 0 END, open_executions = f.open_executions,
            subject_key = f.subject_key, failure_count = f.failure_count, last_failure_id = f.last_failure_id,
            last_failure_at = f.last_failure_at, last_error_class = f.last_error_class, last_status_code = f.last_status_code,
            last_retry_after = f.last_retry_after, last_idempotency_key = f.last_idempotency_key, in_flight_since = f.in_flight_since
        FROM fresh f
        WHERE g.subject_kind = f.subject_kind AND g.subject_id = f.subject_id AND g.connector = f.connector
        RETURNING f.subject_kind, (CASE WHEN f.failure_count > 0 THEN 1 ELSE 0 END) - f.old_open AS open_delta,
            f.open_executions - f.old_executions AS executions_delta
    )
    INSERT INTO audit_count_deltas (name, delta)
    SELECT 'open_failed_delivery_group:' || subject_kind, SUM(open_delta) FROM changed GROUP BY subject_kind HAVING SUM(open_delta) <> 0
    UNION ALL
    SELECT 'open_failed_execution:' || subject_kind, SUM(executions_delta) FROM changed GROUP BY subject_kind HAVING SUM(executions_delta) <> 0;
END $$;
-- +goose StatementEnd

-- audit_refresh_changed_groups refreshes the groups of the rows a statement
-- changed in a way that can open or close a failure or a retry under way: a
-- delivery written completed, a delivery whose state or success changed,
-- and an execution that failed or was skipped, or stopped being so. A
-- delivery written as an in-flight retry only marks its group, and a success
-- that is the newest delivery of its group only closes it.
-- +goose StatementBegin
CREATE FUNCTION audit_refresh_changed_groups() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kinds TEXT[];
    subjects TEXT[];
    conns TEXT[];
    closed_kinds TEXT[];
    closed_subjects TEXT[];
    closed_conns TEXT[];
BEGIN
    IF TG_TABLE_NAME = 'deliveries' AND TG_OP = 'INSERT' THEN
        -- An in-flight retry after the group's latest success becomes its
        -- retry under way without a recompute, unless a newer one is
        -- already marked. A group with no row has no completed delivery
        -- yet, so it is not open.
        PERFORM 1 FROM audit_delivery_groups g
        WHERE (g.subject_kind, g.subject_id, g.connector) IN
            (SELECT n.subject_kind, n.subject_id, n.connector FROM new_rows n WHERE n.state = 'in_flight' AND n.origin = 'retry')
        ORDER BY g.subject_kind, g.subject_id, g.connector
        FOR UPDATE;
        UPDATE audit_delivery_groups g SET in_flight_since = n.started_at
        FROM (SELECT DISTINCT ON (subject_kind, subject_id, connector) subject_kind, subject_id, connector, started_at, created_at, id
              FROM new_rows WHERE state = 'in_flight' AND origin = 'retry'
              ORDER BY subject_kind, subject_id, connector, created_at DESC, id DESC) n
        WHERE g.subject_kind = n.subject_kind AND g.subject_id = n.subject_id AND g.connector = n.connector
          AND (g.in_flight_since IS NULL OR g.in_flight_since < n.started_at)
          AND NOT EXISTS (SELECT 1 FROM deliveries s
              WHERE s.subject_kind = n.subject_kind AND s.subject_id = n.subject_id AND s.connector = n.connector
                AND s.success AND (s.created_at, s.id) > (n.created_at, n.id));
        SELECT array_agg(n.subject_kind), array_agg(n.subject_id), array_agg(n.connector) INTO kinds, subjects, conns
        FROM new_rows n WHERE n.state = 'completed';
    ELSIF TG_TABLE_NAME = 'deliveries' THEN
        -- Every touched group is locked in key order first, so the two
        -- paths below never take group locks in another order.
        PERFORM 1 FROM audit_delivery_groups g
        WHERE (g.subject_kind, g.subject_id, g.connector) IN
            (SELECT n.subject_kind, n.subject_id, n.connector FROM new_rows n JOIN old_rows o ON o.id = n.id
             WHERE n.state IS DISTINCT FROM o.state OR n.success IS DISTINCT FROM o.success)
        ORDER BY g.subject_kind, g.subject_id, g.connector
        FOR UPDATE;
        -- A success that is the newest delivery of its group closes every
        -- failure and repairs every execution started before it was
        -- created. Unless an execution started since then failed, the
        -- group closes without a recompute.
        SELECT array_agg(c.subject_kind), array_agg(c.subject_id), array_agg(c.connector) INTO closed_kinds, closed_subjects, closed_conns
        FROM (SELECT DISTINCT n.subject_kind, n.subject_id, n.connector FROM new_rows n JOIN old_rows o ON o.id = n.id
              WHERE (n.state IS DISTINCT FROM o.state OR n.success IS DISTINCT FROM o.success)
                AND n.state = 'completed' AND n.success
                AND NOT EXISTS (SELECT 1 FROM deliveries d
                    WHERE d.subject_kind = n.subject_kind AND d.subject_id = n.subject_id AND d.connector = n.connector
                      AND (d.created_at, d.id) > (n.created_at, n.id))
                AND NOT EXISTS (SELECT 1 FROM retry_executions x
                    WHERE x.subject_kind = n.subject_kind AND x.subject_id = n.subject_id AND x.connector = n.connector
                      AND x.outcome IN ('failed', 'skipped') AND x.started_at >= n.created_at)) c;
        IF closed_kinds IS NOT NULL THEN
            WITH closed AS (
                UPDATE audit_delivery_groups g SET open_failure = 0, open_executions = 0, failure_count = 0,
                    last_failure_id = '', last_failure_at = NULL, last_error_class = '', last_status_code = 0,
                    last_retry_after = NULL, last_idempotency_key = '', in_flight_since = NULL
                FROM (SELECT b.subject_kind, b.subject_id, b.connector, b.open_failure, b.open_executions FROM audit_delivery_groups b
                      WHERE (b.subject_kind, b.subject_id, b.connector) IN (SELECT * FROM unnest(closed_kinds, closed_subjects, closed_conns))) prior
                WHERE g.subject_kind = prior.subject_kind AND g.subject_id = prior.subject_id AND g.connector = prior.connector
                RETURNING prior.subject_kind, prior.open_failure, prior.open_executions
            )
            INSERT INTO audit_count_deltas (name, delta)
            SELECT 'open_failed_delivery_group:' || subject_kind, -SUM(open_failure) FROM closed GROUP BY subject_kind HAVING SUM(open_failure) <> 0
            UNION ALL
            SELECT 'open_failed_execution:' || subject_kind, -SUM(open_executions) FROM closed GROUP BY subject_kind HAVING SUM(open_executions) <> 0;
        END IF;
        SELECT array_agg(n.subject_kind), array_agg(n.subject_id), array_agg(n.connector) INTO kinds, subjects, conns
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.state IS DISTINCT FROM o.state OR n.success IS DISTINCT FROM o.success)
          AND (closed_kinds IS NULL OR (n.subject_kind, n.subject_id, n.connector) NOT IN
              (SELECT * FROM unnest(closed_kinds, closed_subjects, closed_conns)));
    ELSIF TG_OP = 'INSERT' THEN
        SELECT array_agg(n.subject_kind), array_agg(n.subject_id), array_agg(n.connector) INTO kinds, subjects, conns
        FROM new_rows n WHERE n.outcome IN ('failed', 'skipped');
    ELSE
        SELECT array_agg(n.subject_kind), array_agg(n.subject_id), array_agg(n.connector) INTO kinds, subjects, conns
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE n.outcome IS DISTINCT FROM o.outcome AND (n.outcome IN ('failed', 'skipped') OR o.outcome IN ('failed', 'skipped'));
    END IF;
    IF kinds IS NOT NULL THEN
        PERFORM audit_refresh_groups(kinds, subjects, conns);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER health_snapshots_audit_count_insert AFTER INSERT ON health_snapshots REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'health_snapshot'$$, '1', $$'health_finding'$$, 'finding_count');
CREATE TRIGGER health_snapshots_audit_count_update AFTER UPDATE ON health_snapshots REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'health_snapshot'$$, '1', $$'health_finding'$$, 'finding_count');
CREATE TRIGGER health_snapshots_audit_count_delete AFTER DELETE ON health_snapshots REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'health_snapshot'$$, '1', $$'health_finding'$$, 'finding_count');
CREATE TRIGGER alert_plans_audit_count_insert AFTER INSERT ON alert_plans REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'alert_plan'$$, '1');
CREATE TRIGGER alert_plans_audit_count_delete AFTER DELETE ON alert_plans REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'alert_plan'$$, '1');
CREATE TRIGGER alert_plan_destinations_audit_count_insert AFTER INSERT ON alert_plan_destinations REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'alert_destination:' || decision$$, '1');
CREATE TRIGGER alert_plan_destinations_audit_count_update AFTER UPDATE ON alert_plan_destinations REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'alert_destination:' || decision$$, '1');
CREATE TRIGGER alert_plan_destinations_audit_count_delete AFTER DELETE ON alert_plan_destinations REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'alert_destination:' || decision$$, '1');
CREATE TRIGGER alert_acknowledgements_audit_count_insert AFTER INSERT ON alert_acknowledgements REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'acknowledgement'$$, '1');
CREATE TRIGGER alert_acknowledgements_audit_count_delete AFTER DELETE ON alert_acknowledgements REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'acknowledgement'$$, '1');
CREATE TRIGGER alert_acknowledgement_states_audit_count_insert AFTER INSERT ON alert_acknowledgement_states REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'acknowledgement_state:' || CASE WHEN acknowledgement_state IN ('acknowledged', 'resolved') THEN 'closed' ELSE 'outstanding' END$$, '1');
CREATE TRIGGER alert_acknowledgement_states_audit_count_update AFTER UPDATE ON alert_acknowledgement_states REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'acknowledgement_state:' || CASE WHEN acknowledgement_state IN ('acknowledged', 'resolved') THEN 'closed' ELSE 'outstanding' END$$, '1');
CREATE TRIGGER alert_acknowledgement_states_audit_count_delete AFTER DELETE ON alert_acknowledgement_states REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'acknowledgement_state:' || CASE WHEN acknowledgement_state IN ('acknowledged', 'resolved') THEN 'closed' ELSE 'outstanding' END$$, '1');
CREATE TRIGGER executive_reports_audit_count_insert AFTER INSERT ON executive_reports REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'executive_report'$$, '1');
CREATE TRIGGER executive_reports_audit_count_delete AFTER DELETE ON executive_reports REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'executive_report'$$, '1');
CREATE TRIGGER executive_schedule_runs_audit_count_insert AFTER INSERT ON executive_schedule_runs REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'schedule_run'$$, '1');
CREATE TRIGGER executive_schedule_runs_audit_count_delete AFTER DELETE ON executive_schedule_runs REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'schedule_run'$$, '1');
CREATE TRIGGER deliveries_audit_count_insert AFTER INSERT ON deliveries REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'delivery:' || subject_kind || ':' || CASE WHEN state = 'completed' AND success THEN 'sent' WHEN state = 'completed' THEN 'failed' ELSE 'in_flight' END$$, '1');
CREATE TRIGGER deliveries_audit_count_update AFTER UPDATE ON deliveries REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'delivery:' || subject_kind || ':' || CASE WHEN state = 'completed' AND success THEN 'sent' WHEN state = 'completed' THEN 'failed' ELSE 'in_flight' END$$, '1');
CREATE TRIGGER deliveries_audit_count_delete AFTER DELETE ON deliveries REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'delivery:' || subject_kind || ':' || CASE WHEN state = 'completed' AND success THEN 'sent' WHEN state = 'completed' THEN 'failed' ELSE 'in_flight' END$$, '1');
CREATE TRIGGER retry_plans_audit_count_insert AFTER INSERT ON retry_plans REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'retry_plan:' || subject_kind$$, '1');
CREATE TRIGGER retry_plans_audit_count_update AFTER UPDATE ON retry_plans REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'retry_plan:' || subject_kind$$, '1');
CREATE TRIGGER retry_plans_audit_count_delete AFTER DELETE ON retry_plans REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'retry_plan:' || subject_kind$$, '1');
CREATE TRIGGER retry_decisions_audit_count_insert AFTER INSERT ON retry_decisions REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'retry_decision:' || subject_kind || ':' || action$$, '1');
CREATE TRIGGER retry_decisions_audit_count_update AFTER UPDATE ON retry_decisions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'retry_decision:' || subject_kind || ':' || action$$, '1');
CREATE TRIGGER retry_decisions_audit_count_delete AFTER DELETE ON retry_decisions REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'retry_decision:' || subject_kind || ':' || action$$, '1');
CREATE TRIGGER retry_worker_runs_audit_count_insert AFTER INSERT ON retry_worker_runs REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'retry_worker_run:' || subject_kind || ':' || CASE WHEN dry_run THEN 'dry' ELSE 'live' END$$, '1');
CREATE TRIGGER retry_worker_runs_audit_count_update AFTER UPDATE ON retry_worker_runs REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'retry_worker_run:' || subject_kind || ':' || CASE WHEN dry_run THEN 'dry' ELSE 'live' END$$, '1');
CREATE TRIGGER retry_worker_runs_audit_count_delete AFTER DELETE ON retry_worker_runs REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'retry_worker_run:' || subject_kind || ':' || CASE WHEN dry_run THEN 'dry' ELSE 'live' END$$, '1');
CREATE TRIGGER retry_executions_audit_count_insert AFTER INSERT ON retry_executions REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'retry_execution:' || subject_kind || ':' || outcome$$, '1');
CREATE TRIGGER retry_executions_audit_count_update AFTER UPDATE ON retry_executions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'retry_execution:' || subject_kind || ':' || outcome$$, '1');
CREATE TRIGGER retry_executions_audit_count_delete AFTER DELETE ON retry_executions REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'retry_execution:' || subject_kind || ':' || outcome$$, '1');

CREATE TRIGGER deliveries_audit_group_insert AFTER INSERT ON deliveries REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_refresh_changed_groups();
CREATE TRIGGER deliveries_audit_group_update AFTER UPDATE ON deliveries REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_refresh_changed_groups();
CREATE TRIGGER retry_executions_audit_group_insert AFTER INSERT ON retry_executions REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_refresh_changed_groups();
CREATE TRIGGER retry_executions_audit_group_update AFTER UPDATE ON retry_executions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_refresh_changed_groups();

-- Fill the new columns of the groups that exist.
SELECT audit_refresh_groups(array_agg(subject_kind), array_agg(subject_id), array_agg(connector)) FROM audit_delivery_groups;
{{else}}
-- SQLite runs a second INSTEAD OF trigger on audit_group_refresh that keeps
-- the new columns, next to the one that keeps the open counts. An in-flight
-- retry delivery now refreshes its group too.
-- +goose StatementBegin
CREATE TRIGGER audit_group_refresh_state INSTEAD OF INSERT ON audit_group_refresh BEGIN
    INSERT OR IGNORE INTO audit_delivery_groups (subject_kind, subject_id, connector) VALUES (NEW.subject_kind, NEW.subject_id, NEW.connector);
    UPDATE audit_delivery_groups SET
        subject_key = COALESCE((SELECT d.subject_key FROM deliveries d
            WHERE d.subject_kind = NEW.subject_kind AND d.subject_id = NEW.subject_id AND d.connector = NEW.connector
            ORDER BY d.created_at DESC, d.id DESC LIMIT 1), subject_key),
        failure_count = (SELECT COUNT(*) FROM deliveries f
            WHERE f.subject_kind = NEW.subject_kind AND f.subject_id = NEW.subject_id AND f.connector = NEW.connector
              AND f.state = 'completed' AND NOT f.success
              AND NOT EXISTS (SELECT 1 FROM deliveries s
                  WHERE s.subject_kind = f.subject_kind AND s.subject_id = f.subject_id AND s.connector = f.connector
                    AND s.success AND (s.created_at, s.id) > (f.created_at, f.id))),
        last_failure_id = COALESCE((SELECT f.id FROM deliveries f
            WHERE f.subject_kind = NEW.subject_kind AND f.subject_id = NEW.subject_id AND f.connector = NEW.connector
              AND f.state = 'completed' AND NOT f.success
              AND NOT EXISTS (SELECT 1 FROM deliveries s
                  WHERE s.subject_kind = f.subject_kind AND s.subject_id = f.subject_id AND s.connector = f.connector
                    AND s.success AND (s.created_at, s.id) > (f.created_at, f.id))
            ORDER BY f.created_at DESC, f.id DESC LIMIT 1), ''),
        in_flight_since = (SELECT r.started_at FROM deliveries r
            WHERE r.subject_kind = NEW.subject_kind AND r.subject_id = NEW.subject_id AND r.connector = NEW.connector
              AND r.state = 'in_flight' AND r.origin = 'retry'
              AND NOT EXISTS (SELECT 1 FROM deliveries s
                  WHERE s.subject_kind = r.subject_kind AND s.subject_id = r.subject_id AND s.connector = r.connector
                    AND s.success AND (s.created_at, s.id) > (r.created_at, r.id))
            ORDER BY r.created_at DESC, r.id DESC LIMIT 1)
    WHERE subject_kind = NEW.subject_kind AND subject_id = NEW.subject_id AND connector = NEW.connector;
    UPDATE audit_delivery_groups SET
        last_failure_at = (SELECT COALESCE(f.completed_at, f.created_at) FROM deliveries f WHERE f.id = last_failure_id),
        last_error_class = COALESCE((SELECT f.error_class FROM deliveries f WHERE f.id = last_failure_id), ''),
        last_status_code = COALESCE((SELECT f.status_code FROM deliveries f WHERE f.id = last_failure_id), 0),
        last_retry_after = (SELECT f.retry_after FROM deliveries f WHERE f.id = last_failure_id),
        last_idempotency_key = COALESCE((SELECT f.idempotency_key FROM deliveries f WHERE f.id = last_failure_id), '')
    WHERE subject_kind = NEW.subject_kind AND subject_id = NEW.subject_id AND connector = NEW.connector;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER deliveries_audit_group_retry_insert AFTER INSERT ON deliveries WHEN NEW.state <> 'completed' AND NEW.origin = 'retry' BEGIN
    INSERT INTO audit_group_refresh (subject_kind, subject_id, connector) VALUES (NEW.subject_kind, NEW.subject_id, NEW.connector);
END;
-- +goose StatementEnd

-- Fill the new columns of the groups that exist.
INSERT INTO audit_group_refresh (subject_kind, subject_id, connector)
SELECT subject_kind, subject_id, connector FROM audit_delivery_groups;
{{end}}

-- +goose Down
{{if .PostgreSQL}}
DROP TRIGGER retry_executions_audit_group_update ON retry_executions;
DROP TRIGGER retry_executions_audit_group_insert ON retry_executions;
DROP TRIGGER deliveries_audit_group_update ON deliveries;
DROP TRIGGER deliveries_audit_group_insert ON deliveries;
DROP TRIGGER health_snapshots_audit_count_insert ON health_snapshots;
DROP TRIGGER health_snapshots_audit_count_update ON health_snapshots;
DROP TRIGGER health_snapshots_audit_count_delete ON health_snapshots;
DROP TRIGGER alert_plans_audit_count_insert ON alert_plans;
DROP TRIGGER alert_plans_audit_count_delete ON alert_plans;
DROP TRIGGER alert_plan_destinations_audit_count_insert ON alert_plan_destinations;
DROP TRIGGER alert_plan_destinations_audit_count_update ON alert_plan_destinations;
DROP TRIGGER alert_plan_destinations_audit_count_delete ON alert_plan_destinations;
DROP TRIGGER alert_acknowledgements_audit_count_insert ON alert_acknowledgements;
DROP TRIGGER alert_acknowledgements_audit_count_delete ON alert_acknowledgements;
DROP TRIGGER alert_acknowledgement_states_audit_count_insert ON alert_acknowledgement_states;
DROP TRIGGER alert_acknowledgement_states_audit_count_update ON alert_acknowledgement_states;
DROP TRIGGER alert_acknowledgement_states_audit_count_delete ON alert_acknowledgement_states;
DROP TRIGGER executive_reports_audit_count_insert ON executive_reports;
DROP TRIGGER executive_reports_audit_count_delete ON executive_reports;
DROP TRIGGER executive_schedule_runs_audit_count_insert ON executive_schedule_runs;
DROP TRIGGER executive_schedule_runs_audit_count_delete ON executive_schedule_runs;
DROP TRIGGER deliveries_audit_count_insert ON deliveries;
DROP TRIGGER deliveries_audit_count_update ON deliveries;
DROP TRIGGER deliveries_audit_count_delete ON deliveries;
DROP TRIGGER retry_plans_audit_count_insert ON retry_plans;
DROP TRIGGER retry_plans_audit_count_update ON retry_plans;
DROP TRIGGER retry_plans_audit_count_delete ON retry_plans;
DROP TRIGGER retry_decisions_audit_count_insert ON retry_decisions;
DROP TRIGGER retry_decisions_audit_count_update ON retry_decisions;
DROP TRIGGER retry_decisions_audit_count_delete ON retry_decisions;
DROP TRIGGER retry_worker_runs_audit_count_insert ON retry_worker_runs;
DROP TRIGGER retry_worker_runs_audit_count_update ON retry_worker_runs;
DROP TRIGGER retry_worker_runs_audit_count_delete ON retry_worker_runs;
DROP TRIGGER retry_executions_audit_count_insert ON retry_executions;
DROP TRIGGER retry_executions_audit_count_update ON retry_executions;
DROP TRIGGER retry_executions_audit_count_delete ON retry_executions;
DROP FUNCTION audit_refresh_changed_groups();
DROP FUNCTION audit_refresh_groups(TEXT[], TEXT[], TEXT[]);
DROP FUNCTION audit_count_changes();

-- The row-level triggers of the previous version call functions that this
-- migration kept.
CREATE TRIGGER health_snapshots_audit_count AFTER INSERT OR UPDATE OR DELETE ON health_snapshots FOR EACH ROW EXECUTE FUNCTION audit_count_row('health_snapshot');
CREATE TRIGGER alert_plans_audit_count AFTER INSERT OR DELETE ON alert_plans FOR EACH ROW EXECUTE FUNCTION audit_count_row('alert_plan');
CREATE TRIGGER alert_plan_destinations_audit_count AFTER INSERT OR UPDATE OR DELETE ON alert_plan_destinations FOR EACH ROW EXECUTE FUNCTION audit_count_row();
CREATE TRIGGER alert_acknowledgements_audit_count AFTER INSERT OR DELETE ON alert_acknowledgements FOR EACH ROW EXECUTE FUNCTION audit_count_row('acknowledgement');
CREATE TRIGGER alert_acknowledgement_states_audit_count AFTER INSERT OR UPDATE OR DELETE ON alert_acknowledgement_states FOR EACH ROW EXECUTE FUNCTION audit_count_row();
CREATE TRIGGER executive_reports_audit_count AFTER INSERT OR DELETE ON executive_reports FOR EACH ROW EXECUTE FUNCTION audit_count_row('executive_report');
CREATE TRIGGER executive_schedule_runs_audit_count AFTER INSERT OR DELETE ON executive_schedule_runs FOR EACH ROW EXECUTE FUNCTION audit_count_row('schedule_run');
CREATE TRIGGER deliveries_audit_count AFTER INSERT OR UPDATE OR DELETE ON deliveries FOR EACH ROW EXECUTE FUNCTION audit_count_row();
CREATE TRIGGER retry_plans_audit_count AFTER INSERT OR UPDATE OR DELETE ON retry_plans FOR EACH ROW EXECUTE FUNCTION audit_count_row();
CREATE TRIGGER retry_decisions_audit_count AFTER INSERT OR UPDATE OR DELETE ON retry_decisions FOR EACH ROW EXECUTE FUNCTION audit_count_row();
CREATE TRIGGER retry_worker_runs_audit_count AFTER INSERT OR UPDATE OR DELETE ON retry_worker_runs FOR EACH ROW EXECUTE FUNCTION audit_count_row();
CREATE TRIGGER retry_executions_audit_count AFTER INSERT OR UPDATE OR DELETE ON retry_executions FOR EACH ROW EXECUTE FUNCTION audit_count_row();
CREATE TRIGGER deliveries_audit_group_insert AFTER INSERT ON deliveries FOR EACH ROW
WHEN (NEW.state = 'completed') EXECUTE FUNCTION audit_refresh_group_of_row();
CREATE TRIGGER deliveries_audit_group_update AFTER UPDATE ON deliveries FOR EACH ROW
WHEN (NEW.state IS DISTINCT FROM OLD.state OR NEW.success IS DISTINCT FROM OLD.success) EXECUTE FUNCTION audit_refresh_group_of_row();
CREATE TRIGGER retry_executions_audit_group_insert AFTER INSERT ON retry_executions FOR EACH ROW
WHEN (NEW.outcome IN ('failed', 'skipped')) EXECUTE FUNCTION audit_refresh_group_of_row();
CREATE TRIGGER retry_executions_audit_group_update AFTER UPDATE ON retry_executions FOR EACH ROW
WHEN (NEW.outcome IS DISTINCT FROM OLD.outcome) EXECUTE FUNCTION audit_refresh_group_of_row();
{{else}}
DROP TRIGGER deliveries_audit_group_retry_insert;
DROP TRIGGER audit_group_refresh_state;
{{end}}
DROP INDEX audit_delivery_groups_open;
ALTER TABLE audit_delivery_groups DROP COLUMN in_flight_since;
ALTER TABLE audit_delivery_groups DROP COLUMN last_idempotency_key;
ALTER TABLE audit_delivery_groups DROP COLUMN last_retry_after;
ALTER TABLE audit_delivery_groups DROP COLUMN last_status_code;
ALTER TABLE audit_delivery_groups DROP COLUMN last_error_class;
ALTER TABLE audit_delivery_groups DROP COLUMN last_failure_at;
ALTER TABLE audit_delivery_groups DROP COLUMN last_failure_id;
ALTER TABLE audit_delivery_groups DROP COLUMN failure_count;
ALTER TABLE audit_delivery_groups DROP COLUMN subject_key;
