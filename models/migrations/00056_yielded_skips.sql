-- +goose Up
-- A skipped execution whose retry went to another sender, because another
-- worker run claimed it first or a delivery to its destination was already
-- under way, is yielded. It did not fail, so it no longer counts as a retry
-- execution not yet repaired; before, a failing winner's failure counted
-- twice. Existing skips are marked by their reasons, and the groups that
-- counted any execution are counted again. The definitions below are those
-- of 00053 with only the execution condition changed; Down restores them.
ALTER TABLE retry_executions ADD COLUMN yielded BOOLEAN NOT NULL DEFAULT FALSE;

{{if .PostgreSQL}}
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_refresh_groups(kinds TEXT[], subjects TEXT[], conns TEXT[]) RETURNS void LANGUAGE plpgsql
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
            CASE WHEN COALESCE(open_rows.failure_count, 0) = 0 THEN 0 ELSE
            (SELECT COUNT(*) FROM retry_executions x
             WHERE x.subject_kind = k.subject_kind AND x.subject_id = k.subject_id AND x.connector = k.connector
               AND (x.outcome = 'failed' OR (x.outcome = 'skipped' AND NOT x.yielded))
               AND NOT EXISTS (SELECT 1 FROM deliveries later
                   WHERE later.subject_kind = x.subject_kind AND later.subject_id = x.subject_id AND later.connector = x.connector
                     AND later.success AND later.created_at > x.started_at)) END AS open_executions
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
{{else}}
DROP TRIGGER audit_group_refresh_insert;
-- +goose StatementBegin
CREATE TRIGGER audit_group_refresh_insert INSTEAD OF INSERT ON audit_group_refresh BEGIN
    INSERT OR IGNORE INTO audit_delivery_groups (subject_kind, subject_id, connector) VALUES (NEW.subject_kind, NEW.subject_id, NEW.connector);
    INSERT INTO audit_count_deltas (name, delta)
    SELECT 'open_failed_delivery_group:' || NEW.subject_kind, (CASE WHEN EXISTS (
            SELECT 1 FROM deliveries f
            WHERE f.subject_kind = NEW.subject_kind AND f.subject_id = NEW.subject_id AND f.connector = NEW.connector
              AND f.state = 'completed' AND NOT f.success
              AND NOT EXISTS (SELECT 1 FROM deliveries later
                  WHERE later.subject_kind = f.subject_kind AND later.subject_id = f.subject_id AND later.connector = f.connector
                    AND later.success AND (later.created_at > f.created_at OR (later.created_at = f.created_at AND later.id > f.id))))
        THEN 1 ELSE 0 END) - g.open_failure
    FROM audit_delivery_groups g WHERE g.subject_kind = NEW.subject_kind AND g.subject_id = NEW.subject_id AND g.connector = NEW.connector AND (CASE WHEN EXISTS (
            SELECT 1 FROM deliveries f
            WHERE f.subject_kind = NEW.subject_kind AND f.subject_id = NEW.subject_id AND f.connector = NEW.connector
              AND f.state = 'completed' AND NOT f.success
              AND NOT EXISTS (SELECT 1 FROM deliveries later
                  WHERE later.subject_kind = f.subject_kind AND later.subject_id = f.subject_id AND later.connector = f.connector
                    AND later.success AND (later.created_at > f.created_at OR (later.created_at = f.created_at AND later.id > f.id))))
        THEN 1 ELSE 0 END) <> g.open_failure;
    INSERT INTO audit_count_deltas (name, delta)
    SELECT 'open_failed_execution:' || NEW.subject_kind, (CASE WHEN EXISTS (
            SELECT 1 FROM deliveries f
            WHERE f.subject_kind = NEW.subject_kind AND f.subject_id = NEW.subject_id AND f.connector = NEW.connector
              AND f.state = 'completed' AND NOT f.success
              AND NOT EXISTS (SELECT 1 FROM deliveries later
                  WHERE later.subject_kind = f.subject_kind AND later.subject_id = f.subject_id AND later.connector = f.connector
                    AND later.success AND (later.created_at > f.created_at OR (later.created_at = f.created_at AND later.id > f.id))))
        THEN (SELECT COUNT(*) FROM retry_executions x
        WHERE x.subject_kind = NEW.subject_kind AND x.subject_id = NEW.subject_id AND x.connector = NEW.connector
          AND (x.outcome = 'failed' OR (x.outcome = 'skipped' AND NOT x.yielded))
          AND NOT EXISTS (SELECT 1 FROM deliveries later
              WHERE later.subject_kind = x.subject_kind AND later.subject_id = x.subject_id AND later.connector = x.connector
                AND later.success AND later.created_at > x.started_at)) ELSE 0 END) - g.open_executions
    FROM audit_delivery_groups g WHERE g.subject_kind = NEW.subject_kind AND g.subject_id = NEW.subject_id AND g.connector = NEW.connector AND (CASE WHEN EXISTS (
            SELECT 1 FROM deliveries f
            WHERE f.subject_kind = NEW.subject_kind AND f.subject_id = NEW.subject_id AND f.connector = NEW.connector
              AND f.state = 'completed' AND NOT f.success
              AND NOT EXISTS (SELECT 1 FROM deliveries later
                  WHERE later.subject_kind = f.subject_kind AND later.subject_id = f.subject_id AND later.connector = f.connector
                    AND later.success AND (later.created_at > f.created_at OR (later.created_at = f.created_at AND later.id > f.id))))
        THEN (SELECT COUNT(*) FROM retry_executions x
        WHERE x.subject_kind = NEW.subject_kind AND x.subject_id = NEW.subject_id AND x.connector = NEW.connector
          AND (x.outcome = 'failed' OR (x.outcome = 'skipped' AND NOT x.yielded))
          AND NOT EXISTS (SELECT 1 FROM deliveries later
              WHERE later.subject_kind = x.subject_kind AND later.subject_id = x.subject_id AND later.connector = x.connector
                AND later.success AND later.created_at > x.started_at)) ELSE 0 END) <> g.open_executions;
    UPDATE audit_delivery_groups SET open_failure = (CASE WHEN EXISTS (
            SELECT 1 FROM deliveries f
            WHERE f.subject_kind = NEW.subject_kind AND f.subject_id = NEW.subject_id AND f.connector = NEW.connector
              AND f.state = 'completed' AND NOT f.success
              AND NOT EXISTS (SELECT 1 FROM deliveries later
                  WHERE later.subject_kind = f.subject_kind AND later.subject_id = f.subject_id AND later.connector = f.connector
                    AND later.success AND (later.created_at > f.created_at OR (later.created_at = f.created_at AND later.id > f.id))))
        THEN 1 ELSE 0 END), open_executions = (CASE WHEN EXISTS (
            SELECT 1 FROM deliveries f
            WHERE f.subject_kind = NEW.subject_kind AND f.subject_id = NEW.subject_id AND f.connector = NEW.connector
              AND f.state = 'completed' AND NOT f.success
              AND NOT EXISTS (SELECT 1 FROM deliveries later
                  WHERE later.subject_kind = f.subject_kind AND later.subject_id = f.subject_id AND later.connector = f.connector
                    AND later.success AND (later.created_at > f.created_at OR (later.created_at = f.created_at AND later.id > f.id))))
        THEN (SELECT COUNT(*) FROM retry_executions x
        WHERE x.subject_kind = NEW.subject_kind AND x.subject_id = NEW.subject_id AND x.connector = NEW.connector
          AND (x.outcome = 'failed' OR (x.outcome = 'skipped' AND NOT x.yielded))
          AND NOT EXISTS (SELECT 1 FROM deliveries later
              WHERE later.subject_kind = x.subject_kind AND later.subject_id = x.subject_id AND later.connector = x.connector
                AND later.success AND later.created_at > x.started_at)) ELSE 0 END)
    WHERE subject_kind = NEW.subject_kind AND subject_id = NEW.subject_id AND connector = NEW.connector;
END;
-- +goose StatementEnd
{{end}}

UPDATE retry_executions SET yielded = TRUE
WHERE outcome = 'skipped' AND (reason LIKE 'already claimed by another worker run%' OR reason LIKE 'a delivery to this destination started at%');

{{if .PostgreSQL}}
SELECT audit_refresh_groups(array_agg(subject_kind), array_agg(subject_id), array_agg(connector))
FROM audit_delivery_groups WHERE open_executions <> 0 HAVING COUNT(*) > 0;
{{else}}
INSERT INTO audit_group_refresh (subject_kind, subject_id, connector)
SELECT subject_kind, subject_id, connector FROM audit_delivery_groups WHERE open_executions <> 0;
{{end}}

-- +goose Down
{{if .PostgreSQL}}
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_refresh_groups(kinds TEXT[], subjects TEXT[], conns TEXT[]) RETURNS void LANGUAGE plpgsql
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
            CASE WHEN COALESCE(open_rows.failure_count, 0) = 0 THEN 0 ELSE
            (SELECT COUNT(*) FROM retry_executions x
             WHERE x.subject_kind = k.subject_kind AND x.subject_id = k.subject_id AND x.connector = k.connector
               AND x.outcome IN ('failed', 'skipped')
               AND NOT EXISTS (SELECT 1 FROM deliveries later
                   WHERE later.subject_kind = x.subject_kind AND later.subject_id = x.subject_id AND later.connector = x.connector
                     AND later.success AND later.created_at > x.started_at)) END AS open_executions
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
{{else}}
DROP TRIGGER audit_group_refresh_insert;
-- +goose StatementBegin
CREATE TRIGGER audit_group_refresh_insert INSTEAD OF INSERT ON audit_group_refresh BEGIN
    INSERT OR IGNORE INTO audit_delivery_groups (subject_kind, subject_id, connector) VALUES (NEW.subject_kind, NEW.subject_id, NEW.connector);
    INSERT INTO audit_count_deltas (name, delta)
    SELECT 'open_failed_delivery_group:' || NEW.subject_kind, (CASE WHEN EXISTS (
            SELECT 1 FROM deliveries f
            WHERE f.subject_kind = NEW.subject_kind AND f.subject_id = NEW.subject_id AND f.connector = NEW.connector
              AND f.state = 'completed' AND NOT f.success
              AND NOT EXISTS (SELECT 1 FROM deliveries later
                  WHERE later.subject_kind = f.subject_kind AND later.subject_id = f.subject_id AND later.connector = f.connector
                    AND later.success AND (later.created_at > f.created_at OR (later.created_at = f.created_at AND later.id > f.id))))
        THEN 1 ELSE 0 END) - g.open_failure
    FROM audit_delivery_groups g WHERE g.subject_kind = NEW.subject_kind AND g.subject_id = NEW.subject_id AND g.connector = NEW.connector AND (CASE WHEN EXISTS (
            SELECT 1 FROM deliveries f
            WHERE f.subject_kind = NEW.subject_kind AND f.subject_id = NEW.subject_id AND f.connector = NEW.connector
              AND f.state = 'completed' AND NOT f.success
              AND NOT EXISTS (SELECT 1 FROM deliveries later
                  WHERE later.subject_kind = f.subject_kind AND later.subject_id = f.subject_id AND later.connector = f.connector
                    AND later.success AND (later.created_at > f.created_at OR (later.created_at = f.created_at AND later.id > f.id))))
        THEN 1 ELSE 0 END) <> g.open_failure;
    INSERT INTO audit_count_deltas (name, delta)
    SELECT 'open_failed_execution:' || NEW.subject_kind, (CASE WHEN EXISTS (
            SELECT 1 FROM deliveries f
            WHERE f.subject_kind = NEW.subject_kind AND f.subject_id = NEW.subject_id AND f.connector = NEW.connector
              AND f.state = 'completed' AND NOT f.success
              AND NOT EXISTS (SELECT 1 FROM deliveries later
                  WHERE later.subject_kind = f.subject_kind AND later.subject_id = f.subject_id AND later.connector = f.connector
                    AND later.success AND (later.created_at > f.created_at OR (later.created_at = f.created_at AND later.id > f.id))))
        THEN (SELECT COUNT(*) FROM retry_executions x
        WHERE x.subject_kind = NEW.subject_kind AND x.subject_id = NEW.subject_id AND x.connector = NEW.connector
          AND x.outcome IN ('failed', 'skipped')
          AND NOT EXISTS (SELECT 1 FROM deliveries later
              WHERE later.subject_kind = x.subject_kind AND later.subject_id = x.subject_id AND later.connector = x.connector
                AND later.success AND later.created_at > x.started_at)) ELSE 0 END) - g.open_executions
    FROM audit_delivery_groups g WHERE g.subject_kind = NEW.subject_kind AND g.subject_id = NEW.subject_id AND g.connector = NEW.connector AND (CASE WHEN EXISTS (
            SELECT 1 FROM deliveries f
            WHERE f.subject_kind = NEW.subject_kind AND f.subject_id = NEW.subject_id AND f.connector = NEW.connector
              AND f.state = 'completed' AND NOT f.success
              AND NOT EXISTS (SELECT 1 FROM deliveries later
                  WHERE later.subject_kind = f.subject_kind AND later.subject_id = f.subject_id AND later.connector = f.connector
                    AND later.success AND (later.created_at > f.created_at OR (later.created_at = f.created_at AND later.id > f.id))))
        THEN (SELECT COUNT(*) FROM retry_executions x
        WHERE x.subject_kind = NEW.subject_kind AND x.subject_id = NEW.subject_id AND x.connector = NEW.connector
          AND x.outcome IN ('failed', 'skipped')
          AND NOT EXISTS (SELECT 1 FROM deliveries later
              WHERE later.subject_kind = x.subject_kind AND later.subject_id = x.subject_id AND later.connector = x.connector
                AND later.success AND later.created_at > x.started_at)) ELSE 0 END) <> g.open_executions;
    UPDATE audit_delivery_groups SET open_failure = (CASE WHEN EXISTS (
            SELECT 1 FROM deliveries f
            WHERE f.subject_kind = NEW.subject_kind AND f.subject_id = NEW.subject_id AND f.connector = NEW.connector
              AND f.state = 'completed' AND NOT f.success
              AND NOT EXISTS (SELECT 1 FROM deliveries later
                  WHERE later.subject_kind = f.subject_kind AND later.subject_id = f.subject_id AND later.connector = f.connector
                    AND later.success AND (later.created_at > f.created_at OR (later.created_at = f.created_at AND later.id > f.id))))
        THEN 1 ELSE 0 END), open_executions = (CASE WHEN EXISTS (
            SELECT 1 FROM deliveries f
            WHERE f.subject_kind = NEW.subject_kind AND f.subject_id = NEW.subject_id AND f.connector = NEW.connector
              AND f.state = 'completed' AND NOT f.success
              AND NOT EXISTS (SELECT 1 FROM deliveries later
                  WHERE later.subject_kind = f.subject_kind AND later.subject_id = f.subject_id AND later.connector = f.connector
                    AND later.success AND (later.created_at > f.created_at OR (later.created_at = f.created_at AND later.id > f.id))))
        THEN (SELECT COUNT(*) FROM retry_executions x
        WHERE x.subject_kind = NEW.subject_kind AND x.subject_id = NEW.subject_id AND x.connector = NEW.connector
          AND x.outcome IN ('failed', 'skipped')
          AND NOT EXISTS (SELECT 1 FROM deliveries later
              WHERE later.subject_kind = x.subject_kind AND later.subject_id = x.subject_id AND later.connector = x.connector
                AND later.success AND later.created_at > x.started_at)) ELSE 0 END)
    WHERE subject_kind = NEW.subject_kind AND subject_id = NEW.subject_id AND connector = NEW.connector;
END;
-- +goose StatementEnd
{{end}}

{{if .PostgreSQL}}
SELECT audit_refresh_groups(array_agg(subject_kind), array_agg(subject_id), array_agg(connector))
FROM audit_delivery_groups WHERE open_executions <> 0 HAVING COUNT(*) > 0;
{{else}}
INSERT INTO audit_group_refresh (subject_kind, subject_id, connector)
SELECT subject_kind, subject_id, connector FROM audit_delivery_groups WHERE open_executions <> 0;
{{end}}

ALTER TABLE retry_executions DROP COLUMN yielded;
