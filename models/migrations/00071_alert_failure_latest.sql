-- +goose Up
-- The failure that decides whether an alert is open at a destination is
-- the one that completed last, and it is open until a success there
-- completes at or after that failure started. The retry rules take the
-- group whose failure completed last as the only one to retry, so a
-- failure that started later but completed earlier no longer keeps the
-- pair open on the dashboard while the worker retries nothing.
{{if .PostgreSQL}}
LOCK TABLE deliveries IN SHARE ROW EXCLUSIVE MODE;
{{end}}
INSERT INTO audit_count_deltas (name, delta)
SELECT 'open_alert_destination', -COUNT(*) FROM audit_alert_destinations
WHERE last_failure_at IS NOT NULL AND (last_success_at IS NULL OR last_success_at < last_failure_at);
UPDATE audit_alert_destinations SET last_failure_at = (SELECT d.started_at FROM deliveries d
    WHERE d.subject_kind = 'health_alert' AND d.subject_key = audit_alert_destinations.subject_key
      AND d.connector = audit_alert_destinations.connector AND d.state = 'completed' AND NOT d.success
    ORDER BY COALESCE(d.completed_at, d.created_at) DESC, d.id DESC LIMIT 1);
INSERT INTO audit_count_deltas (name, delta)
SELECT 'open_alert_destination', COUNT(*) FROM audit_alert_destinations
WHERE last_failure_at IS NOT NULL AND (last_success_at IS NULL OR last_success_at < last_failure_at);

{{if .PostgreSQL}}
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_refresh_alert_destinations(keys TEXT[], conns TEXT[]) RETURNS void LANGUAGE plpgsql AS $$
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
                (SELECT f.started_at FROM deliveries f
                    WHERE f.subject_kind = 'health_alert' AND f.subject_key = k.subject_key
                      AND f.connector = k.connector AND f.state = 'completed' AND NOT f.success
                    ORDER BY COALESCE(f.completed_at, f.created_at) DESC, f.id DESC LIMIT 1) AS failure_at,
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
{{else}}
DROP TRIGGER audit_alert_destination_refresh_insert;
-- +goose StatementBegin
CREATE TRIGGER audit_alert_destination_refresh_insert INSTEAD OF INSERT ON audit_alert_destination_refresh BEGIN
    INSERT OR IGNORE INTO audit_alert_destinations (subject_key, connector) VALUES (NEW.subject_key, NEW.connector);
    INSERT INTO audit_count_deltas (name, delta)
    SELECT 'open_alert_destination', is_open - was_open FROM (
        SELECT (a.last_failure_at IS NOT NULL AND (a.last_success_at IS NULL OR a.last_success_at < a.last_failure_at)) AS was_open,
            (t.failure_at IS NOT NULL AND (t.success_at IS NULL OR t.success_at < t.failure_at)) AS is_open
        FROM audit_alert_destinations a,
            (SELECT (SELECT f.started_at FROM deliveries f
                     WHERE f.subject_kind = 'health_alert' AND f.subject_key = NEW.subject_key
                       AND f.connector = NEW.connector AND f.state = 'completed' AND NOT f.success
                     ORDER BY COALESCE(f.completed_at, f.created_at) DESC, f.id DESC LIMIT 1) AS failure_at,
                    MAX(CASE WHEN d.success THEN d.completed_at END) AS success_at
             FROM deliveries d
             WHERE d.subject_kind = 'health_alert' AND d.subject_key = NEW.subject_key AND d.connector = NEW.connector
               AND d.state = 'completed') t
        WHERE a.subject_key = NEW.subject_key AND a.connector = NEW.connector)
    WHERE is_open <> was_open;
    UPDATE audit_alert_destinations SET
        last_failure_at = (SELECT f.started_at FROM deliveries f
                WHERE f.subject_kind = 'health_alert' AND f.subject_key = NEW.subject_key
                  AND f.connector = NEW.connector AND f.state = 'completed' AND NOT f.success
                ORDER BY COALESCE(f.completed_at, f.created_at) DESC, f.id DESC LIMIT 1),
        last_success_at = (SELECT MAX(d.completed_at) FROM deliveries d
            WHERE d.subject_kind = 'health_alert' AND d.subject_key = NEW.subject_key AND d.connector = NEW.connector
              AND d.state = 'completed' AND d.success)
    WHERE subject_key = NEW.subject_key AND connector = NEW.connector;
END;
-- +goose StatementEnd
{{end}}

-- +goose Down
{{if .PostgreSQL}}
LOCK TABLE deliveries IN SHARE ROW EXCLUSIVE MODE;
{{end}}
INSERT INTO audit_count_deltas (name, delta)
SELECT 'open_alert_destination', -COUNT(*) FROM audit_alert_destinations
WHERE last_failure_at IS NOT NULL AND (last_success_at IS NULL OR last_success_at < last_failure_at);
UPDATE audit_alert_destinations SET last_failure_at = (SELECT MAX(d.started_at) FROM deliveries d
    WHERE d.subject_kind = 'health_alert' AND d.subject_key = audit_alert_destinations.subject_key
      AND d.connector = audit_alert_destinations.connector AND d.state = 'completed' AND NOT d.success);
INSERT INTO audit_count_deltas (name, delta)
SELECT 'open_alert_destination', COUNT(*) FROM audit_alert_destinations
WHERE last_failure_at IS NOT NULL AND (last_success_at IS NULL OR last_success_at < last_failure_at);

{{if .PostgreSQL}}
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_refresh_alert_destinations(keys TEXT[], conns TEXT[]) RETURNS void LANGUAGE plpgsql AS $$
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
                MAX(d.started_at) FILTER (WHERE NOT d.success) AS failure_at,
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
{{else}}
DROP TRIGGER audit_alert_destination_refresh_insert;
-- +goose StatementBegin
CREATE TRIGGER audit_alert_destination_refresh_insert INSTEAD OF INSERT ON audit_alert_destination_refresh BEGIN
    INSERT OR IGNORE INTO audit_alert_destinations (subject_key, connector) VALUES (NEW.subject_key, NEW.connector);
    INSERT INTO audit_count_deltas (name, delta)
    SELECT 'open_alert_destination', is_open - was_open FROM (
        SELECT (a.last_failure_at IS NOT NULL AND (a.last_success_at IS NULL OR a.last_success_at < a.last_failure_at)) AS was_open,
            (t.failure_at IS NOT NULL AND (t.success_at IS NULL OR t.success_at < t.failure_at)) AS is_open
        FROM audit_alert_destinations a,
            (SELECT MAX(CASE WHEN NOT d.success THEN d.started_at END) AS failure_at,
                    MAX(CASE WHEN d.success THEN d.completed_at END) AS success_at
             FROM deliveries d
             WHERE d.subject_kind = 'health_alert' AND d.subject_key = NEW.subject_key AND d.connector = NEW.connector
               AND d.state = 'completed') t
        WHERE a.subject_key = NEW.subject_key AND a.connector = NEW.connector)
    WHERE is_open <> was_open;
    UPDATE audit_alert_destinations SET
        last_failure_at = (SELECT MAX(d.started_at) FROM deliveries d
            WHERE d.subject_kind = 'health_alert' AND d.subject_key = NEW.subject_key AND d.connector = NEW.connector
              AND d.state = 'completed' AND NOT d.success),
        last_success_at = (SELECT MAX(d.completed_at) FROM deliveries d
            WHERE d.subject_kind = 'health_alert' AND d.subject_key = NEW.subject_key AND d.connector = NEW.connector
              AND d.state = 'completed' AND d.success)
    WHERE subject_key = NEW.subject_key AND connector = NEW.connector;
END;
-- +goose StatementEnd
{{end}}

