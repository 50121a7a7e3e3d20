-- +goose Up
-- A group's last_retry_after becomes the latest Retry-After time among its
-- open failures, not only the newest failure's. A destination that answered
-- 429 with Retry-After still asks to wait after a later failure without one,
-- such as a timeout. retry_after_status_code and retry_after_error_class
-- describe the failure that sent that time, so a wait reason can name it.
-- Ties on the Retry-After time go to the newest of those failures.
ALTER TABLE audit_delivery_groups ADD COLUMN retry_after_status_code INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit_delivery_groups ADD COLUMN retry_after_error_class TEXT NOT NULL DEFAULT '';

{{if .PostgreSQL}}
-- Writers of deliveries wait until this migration commits, so none of them
-- refreshes a group with the old definitions after the refresh below.
LOCK TABLE deliveries IN SHARE ROW EXCLUSIVE MODE;

-- The definition of 00056 with the three Retry-After columns taken from
-- every open failure.
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
            open_rows.retry_after AS last_retry_after, COALESCE(open_rows.retry_after_status_code, 0) AS retry_after_status_code,
            COALESCE(open_rows.retry_after_error_class, '') AS retry_after_error_class, COALESCE(lf.idempotency_key, '') AS last_idempotency_key,
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
                (array_agg(d.started_at ORDER BY d.created_at DESC, d.id DESC) FILTER (WHERE d.state = 'in_flight' AND d.origin = 'retry'))[1] AS in_flight_since,
                MAX(d.retry_after) FILTER (WHERE d.state = 'completed' AND NOT d.success) AS retry_after,
                (array_agg(d.status_code ORDER BY d.retry_after DESC, d.created_at DESC, d.id DESC)
                    FILTER (WHERE d.state = 'completed' AND NOT d.success AND d.retry_after IS NOT NULL))[1] AS retry_after_status_code,
                (array_agg(d.error_class ORDER BY d.retry_after DESC, d.created_at DESC, d.id DESC)
                    FILTER (WHERE d.state = 'completed' AND NOT d.success AND d.retry_after IS NOT NULL))[1] AS retry_after_error_class
            FROM deliveries d
            WHERE d.subject_kind = k.subject_kind AND d.subject_id = k.subject_id AND d.connector = k.connector
              AND (ls.id IS NULL OR (d.created_at, d.id) > (ls.created_at, ls.id))) open_rows ON true
        LEFT JOIN deliveries lf ON lf.id = open_rows.last_failure_id
    ), changed AS (
        UPDATE audit_delivery_groups g SET
            open_failure = CASE WHEN f.failure_count > 0 THEN 1 ELSE 0 END, open_executions = f.open_executions,
            subject_key = f.subject_key, failure_count = f.failure_count, last_failure_id = f.last_failure_id,
            last_failure_at = f.last_failure_at, last_error_class = f.last_error_class, last_status_code = f.last_status_code,
            last_retry_after = f.last_retry_after, retry_after_status_code = f.retry_after_status_code,
            retry_after_error_class = f.retry_after_error_class, last_idempotency_key = f.last_idempotency_key, in_flight_since = f.in_flight_since
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

-- The definition of 00051, whose path that closes a group without a
-- recompute also clears the two new columns.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_refresh_changed_groups() RETURNS trigger LANGUAGE plpgsql AS $$
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
                    last_retry_after = NULL, retry_after_status_code = 0, retry_after_error_class = '',
                    last_idempotency_key = '', in_flight_since = NULL
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

SELECT audit_refresh_groups(array_agg(subject_kind), array_agg(subject_id), array_agg(connector))
FROM audit_delivery_groups WHERE failure_count > 0 HAVING COUNT(*) > 0;
{{else}}
-- The trigger of 00051 with the three Retry-After columns taken from every
-- open failure.
DROP TRIGGER audit_group_refresh_state;
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
        last_retry_after = (SELECT f.retry_after FROM deliveries f
            WHERE f.subject_kind = NEW.subject_kind AND f.subject_id = NEW.subject_id AND f.connector = NEW.connector
              AND f.state = 'completed' AND NOT f.success AND f.retry_after IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM deliveries s
                  WHERE s.subject_kind = f.subject_kind AND s.subject_id = f.subject_id AND s.connector = f.connector
                    AND s.success AND (s.created_at, s.id) > (f.created_at, f.id))
            ORDER BY f.retry_after DESC, f.created_at DESC, f.id DESC LIMIT 1),
        retry_after_status_code = COALESCE((SELECT f.status_code FROM deliveries f
            WHERE f.subject_kind = NEW.subject_kind AND f.subject_id = NEW.subject_id AND f.connector = NEW.connector
              AND f.state = 'completed' AND NOT f.success AND f.retry_after IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM deliveries s
                  WHERE s.subject_kind = f.subject_kind AND s.subject_id = f.subject_id AND s.connector = f.connector
                    AND s.success AND (s.created_at, s.id) > (f.created_at, f.id))
            ORDER BY f.retry_after DESC, f.created_at DESC, f.id DESC LIMIT 1), 0),
        retry_after_error_class = COALESCE((SELECT f.error_class FROM deliveries f
            WHERE f.subject_kind = NEW.subject_kind AND f.subject_id = NEW.subject_id AND f.connector = NEW.connector
              AND f.state = 'completed' AND NOT f.success AND f.retry_after IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM deliveries s
                  WHERE s.subject_kind = f.subject_kind AND s.subject_id = f.subject_id AND s.connector = f.connector
                    AND s.success AND (s.created_at, s.id) > (f.created_at, f.id))
            ORDER BY f.retry_after DESC, f.created_at DESC, f.id DESC LIMIT 1), ''),
        last_idempotency_key = COALESCE((SELECT f.idempotency_key FROM deliveries f WHERE f.id = last_failure_id), '')
    WHERE subject_kind = NEW.subject_kind AND subject_id = NEW.subject_id AND connector = NEW.connector;
END;
-- +goose StatementEnd

INSERT INTO audit_group_refresh (subject_kind, subject_id, connector)
SELECT subject_kind, subject_id, connector FROM audit_delivery_groups WHERE failure_count > 0;
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

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_refresh_changed_groups() RETURNS trigger LANGUAGE plpgsql AS $$
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

{{else}}
DROP TRIGGER audit_group_refresh_state;
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

{{end}}

ALTER TABLE audit_delivery_groups DROP COLUMN retry_after_error_class;
ALTER TABLE audit_delivery_groups DROP COLUMN retry_after_status_code;

{{if .PostgreSQL}}
SELECT audit_refresh_groups(array_agg(subject_kind), array_agg(subject_id), array_agg(connector))
FROM audit_delivery_groups WHERE failure_count > 0 HAVING COUNT(*) > 0;
{{else}}
INSERT INTO audit_group_refresh (subject_kind, subject_id, connector)
SELECT subject_kind, subject_id, connector FROM audit_delivery_groups WHERE failure_count > 0;
{{end}}
