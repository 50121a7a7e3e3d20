-- +goose Up
-- Open failure state per (health alert, destination), so the dashboard reads
-- the number of open alert failures as a running total instead of checking
-- every failed alert delivery for a later success. A health alert is its
-- fingerprint (subject_key): plans of the same alert are different
-- subjects, and a success of any of them closes the failures before it.
-- A failure of an alert to a destination is open until a success of that
-- alert there completes at or after it, which is when last_failure_at is
-- set and last_success_at is NULL or earlier. Each is the newest such time
-- among the completed deliveries of the pair.
CREATE TABLE audit_alert_destinations (
    subject_key     TEXT NOT NULL,
    connector       TEXT NOT NULL,
    last_failure_at {{.Timestamp}},
    last_success_at {{.Timestamp}},
    PRIMARY KEY (subject_key, connector)
);

{{if .PostgreSQL}}
-- Writers of deliveries wait until this migration commits, so no delivery
-- completes between the totals below and the triggers that follow them.
LOCK TABLE deliveries IN SHARE ROW EXCLUSIVE MODE;
{{end}}
-- Totals of the pairs that exist when this migration runs.
INSERT INTO audit_alert_destinations (subject_key, connector, last_failure_at, last_success_at)
SELECT subject_key, connector,
    MAX(CASE WHEN NOT success THEN COALESCE(completed_at, created_at) END),
    MAX(CASE WHEN success THEN completed_at END)
FROM deliveries WHERE subject_kind = 'health_alert' AND state = 'completed'
GROUP BY subject_key, connector;
INSERT INTO audit_count_deltas (name, delta)
SELECT 'open_alert_destination', COUNT(*) FROM audit_alert_destinations
WHERE last_failure_at IS NOT NULL AND (last_success_at IS NULL OR last_success_at < last_failure_at);

{{if .PostgreSQL}}
-- audit_refresh_alert_destinations recomputes the given pairs from their
-- completed deliveries, which the (subject_kind, subject_key, connector,
-- success, completed_at) index finds, and appends the change of the open
-- count. It locks the pairs in key order first, so concurrent writers of
-- one pair wait for each other and read each other's committed rows.
-- NOTE: before deliveries has table statistics the planner can pick the
-- (subject_kind, state, success, created_at) index instead and read every
-- completed alert delivery, until autovacuum's first ANALYZE.
-- NOTE: the lock order holds within one statement. Two transactions that each
-- complete alert deliveries of the same pairs in several statements, in
-- opposite orders, can deadlock, and PostgreSQL then aborts one of them.
-- Every caller completes a transaction's alert deliveries in one statement.
-- +goose StatementBegin
CREATE FUNCTION audit_refresh_alert_destinations(keys TEXT[], conns TEXT[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_alert_destinations (subject_key, connector)
    SELECT DISTINCT k.subject_key, k.connector FROM unnest(keys, conns) AS k(subject_key, connector)
    ORDER BY 1, 2
    ON CONFLICT DO NOTHING;
    PERFORM 1 FROM audit_alert_destinations a
    WHERE (a.subject_key, a.connector) IN (SELECT * FROM unnest(keys, conns))
    ORDER BY a.subject_key, a.connector
    FOR UPDATE;

    WITH fresh AS (
        SELECT a.subject_key, a.connector,
            (a.last_failure_at IS NOT NULL AND (a.last_success_at IS NULL OR a.last_success_at < a.last_failure_at)) AS was_open,
            times.failure_at, times.success_at
        FROM (SELECT DISTINCT k.subject_key, k.connector FROM unnest(keys, conns) AS k(subject_key, connector)) k
        JOIN audit_alert_destinations a ON a.subject_key = k.subject_key AND a.connector = k.connector
        CROSS JOIN LATERAL (SELECT
                MAX(COALESCE(d.completed_at, d.created_at)) FILTER (WHERE NOT d.success) AS failure_at,
                MAX(d.completed_at) FILTER (WHERE d.success) AS success_at
            FROM deliveries d
            WHERE d.subject_kind = 'health_alert' AND d.subject_key = k.subject_key AND d.connector = k.connector
              AND d.state = 'completed') times
    ), changed AS (
        UPDATE audit_alert_destinations a SET last_failure_at = f.failure_at, last_success_at = f.success_at
        FROM fresh f
        WHERE a.subject_key = f.subject_key AND a.connector = f.connector
        RETURNING (CASE WHEN f.failure_at IS NOT NULL AND (f.success_at IS NULL OR f.success_at < f.failure_at) THEN 1 ELSE 0 END)
            - (CASE WHEN f.was_open THEN 1 ELSE 0 END) AS open_delta
    )
    INSERT INTO audit_count_deltas (name, delta)
    SELECT 'open_alert_destination', SUM(open_delta) FROM changed HAVING SUM(open_delta) <> 0;
END $$;
-- +goose StatementEnd

-- audit_refresh_changed_alert_destinations refreshes the pairs of the health
-- alert deliveries that a statement completed, changed or deleted.
-- +goose StatementBegin
CREATE FUNCTION audit_refresh_changed_alert_destinations() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    keys TEXT[];
    conns TEXT[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(n.subject_key), array_agg(n.connector) INTO keys, conns
        FROM new_rows n WHERE n.subject_kind = 'health_alert' AND n.state = 'completed';
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(o.subject_key), array_agg(o.connector) INTO keys, conns
        FROM old_rows o WHERE o.subject_kind = 'health_alert' AND o.state = 'completed';
    ELSE
        SELECT array_agg(c.subject_key), array_agg(c.connector) INTO keys, conns
        FROM (SELECT n.subject_key, n.connector FROM new_rows n JOIN old_rows o ON o.id = n.id
              WHERE n.subject_kind = 'health_alert'
                AND (n.state, n.success, n.completed_at, n.created_at, n.subject_key, n.connector, n.subject_kind)
                    IS DISTINCT FROM (o.state, o.success, o.completed_at, o.created_at, o.subject_key, o.connector, o.subject_kind)
              UNION
              SELECT o.subject_key, o.connector FROM new_rows n JOIN old_rows o ON o.id = n.id
              WHERE o.subject_kind = 'health_alert'
                AND (n.subject_key, n.connector, n.subject_kind) IS DISTINCT FROM (o.subject_key, o.connector, o.subject_kind)) c;
    END IF;
    IF keys IS NOT NULL THEN
        PERFORM audit_refresh_alert_destinations(keys, conns);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER deliveries_audit_pair_insert AFTER INSERT ON deliveries
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_refresh_changed_alert_destinations();
CREATE TRIGGER deliveries_audit_pair_update AFTER UPDATE ON deliveries
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_refresh_changed_alert_destinations();
CREATE TRIGGER deliveries_audit_pair_delete AFTER DELETE ON deliveries
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_refresh_changed_alert_destinations();
{{else}}
-- SQLite has no trigger functions, so a pair refresh is an insert into the
-- audit_alert_destination_refresh view, whose INSTEAD OF trigger recomputes
-- the pair. SQLite has one writer at a time, so no lock is needed.
CREATE VIEW audit_alert_destination_refresh AS SELECT subject_key, connector FROM audit_alert_destinations WHERE 0;
-- +goose StatementBegin
CREATE TRIGGER audit_alert_destination_refresh_insert INSTEAD OF INSERT ON audit_alert_destination_refresh BEGIN
    INSERT OR IGNORE INTO audit_alert_destinations (subject_key, connector) VALUES (NEW.subject_key, NEW.connector);
    INSERT INTO audit_count_deltas (name, delta)
    SELECT 'open_alert_destination', is_open - was_open FROM (
        SELECT (a.last_failure_at IS NOT NULL AND (a.last_success_at IS NULL OR a.last_success_at < a.last_failure_at)) AS was_open,
            (t.failure_at IS NOT NULL AND (t.success_at IS NULL OR t.success_at < t.failure_at)) AS is_open
        FROM audit_alert_destinations a,
            (SELECT MAX(CASE WHEN NOT d.success THEN COALESCE(d.completed_at, d.created_at) END) AS failure_at,
                    MAX(CASE WHEN d.success THEN d.completed_at END) AS success_at
             FROM deliveries d
             WHERE d.subject_kind = 'health_alert' AND d.subject_key = NEW.subject_key AND d.connector = NEW.connector
               AND d.state = 'completed') t
        WHERE a.subject_key = NEW.subject_key AND a.connector = NEW.connector)
    WHERE is_open <> was_open;
    UPDATE audit_alert_destinations SET
        last_failure_at = (SELECT MAX(COALESCE(d.completed_at, d.created_at)) FROM deliveries d
            WHERE d.subject_kind = 'health_alert' AND d.subject_key = NEW.subject_key AND d.connector = NEW.connector
              AND d.state = 'completed' AND NOT d.success),
        last_success_at = (SELECT MAX(d.completed_at) FROM deliveries d
            WHERE d.subject_kind = 'health_alert' AND d.subject_key = NEW.subject_key AND d.connector = NEW.connector
              AND d.state = 'completed' AND d.success)
    WHERE subject_key = NEW.subject_key AND connector = NEW.connector;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER deliveries_audit_pair_insert AFTER INSERT ON deliveries
WHEN NEW.subject_kind = 'health_alert' AND NEW.state = 'completed' BEGIN
    INSERT INTO audit_alert_destination_refresh (subject_key, connector) VALUES (NEW.subject_key, NEW.connector);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER deliveries_audit_pair_update AFTER UPDATE ON deliveries
WHEN (NEW.subject_kind = 'health_alert' OR OLD.subject_kind = 'health_alert')
  AND (NEW.state IS NOT OLD.state OR NEW.success IS NOT OLD.success OR NEW.completed_at IS NOT OLD.completed_at
    OR NEW.created_at IS NOT OLD.created_at OR NEW.subject_key IS NOT OLD.subject_key OR NEW.connector IS NOT OLD.connector
    OR NEW.subject_kind IS NOT OLD.subject_kind) BEGIN
    INSERT INTO audit_alert_destination_refresh (subject_key, connector)
    SELECT NEW.subject_key, NEW.connector WHERE NEW.subject_kind = 'health_alert';
    INSERT INTO audit_alert_destination_refresh (subject_key, connector)
    SELECT OLD.subject_key, OLD.connector WHERE OLD.subject_kind = 'health_alert'
      AND (NEW.subject_key IS NOT OLD.subject_key OR NEW.connector IS NOT OLD.connector OR NEW.subject_kind IS NOT OLD.subject_kind);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER deliveries_audit_pair_delete AFTER DELETE ON deliveries
WHEN OLD.subject_kind = 'health_alert' AND OLD.state = 'completed' BEGIN
    INSERT INTO audit_alert_destination_refresh (subject_key, connector) VALUES (OLD.subject_key, OLD.connector);
END;
-- +goose StatementEnd
{{end}}

-- +goose Down
{{if .PostgreSQL}}
DROP TRIGGER deliveries_audit_pair_delete ON deliveries;
DROP TRIGGER deliveries_audit_pair_update ON deliveries;
DROP TRIGGER deliveries_audit_pair_insert ON deliveries;
DROP FUNCTION audit_refresh_changed_alert_destinations();
DROP FUNCTION audit_refresh_alert_destinations(TEXT[], TEXT[]);
{{else}}
DROP TRIGGER deliveries_audit_pair_delete;
DROP TRIGGER deliveries_audit_pair_update;
DROP TRIGGER deliveries_audit_pair_insert;
DROP TRIGGER audit_alert_destination_refresh_insert;
DROP VIEW audit_alert_destination_refresh;
{{end}}
DELETE FROM audit_count_deltas WHERE name = 'open_alert_destination';
DELETE FROM audit_counts WHERE name = 'open_alert_destination';
DROP TABLE audit_alert_destinations;
