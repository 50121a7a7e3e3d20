-- +goose Up
-- Exact running totals for the rollback drill notification dashboard, so it
-- reads counts in constant time however many records are stored. Triggers on
-- the counted tables append one signed delta per change to
-- audit_count_deltas. Appending never waits on another writer, unlike
-- updating one shared total row. models.AuditCounts folds the deltas into
-- audit_counts once enough have accumulated. A total is the audit_counts
-- value plus its pending deltas.
CREATE TABLE audit_counts (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

CREATE TABLE audit_count_deltas (
    id    {{if .PostgreSQL}}BIGSERIAL{{else}}INTEGER{{end}} PRIMARY KEY,
    name  TEXT NOT NULL,
    delta BIGINT NOT NULL
);

-- Open failure state per (subject, destination) group, refreshed from the
-- group's own rows whenever one of its deliveries completes or one of its
-- retry executions gets an outcome. open_failure is 1 when a completed
-- failed delivery has no later successful delivery; open_executions counts
-- failed or skipped retry executions with no successful delivery created
-- after they started.
CREATE TABLE audit_delivery_groups (
    subject_kind    TEXT NOT NULL,
    subject_id      TEXT NOT NULL,
    connector       TEXT NOT NULL,
    open_failure    INTEGER NOT NULL DEFAULT 0,
    open_executions INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (subject_kind, subject_id, connector)
);

-- The combined history pages every kind by (time, id) descending; these
-- indexes let each branch of the union deliver its rows in that order.
CREATE INDEX health_snapshots_history ON health_snapshots (evaluated_at, id);
CREATE INDEX alert_plans_history ON alert_plans (created_at, id);
CREATE INDEX deliveries_history ON deliveries (created_at, id);
CREATE INDEX alert_acknowledgements_history ON alert_acknowledgements (created_at, id);
CREATE INDEX executive_reports_history ON executive_reports (generated_at, id);
CREATE INDEX executive_schedule_runs_history ON executive_schedule_runs (created_at, id);
CREATE INDEX retry_plans_history ON retry_plans (created_at, id);
CREATE INDEX retry_worker_runs_history ON retry_worker_runs (created_at, id);
CREATE INDEX retry_executions_history ON retry_executions (started_at, id);

-- Totals of the rows that exist when this migration runs.
INSERT INTO audit_counts (name, value)
SELECT 'health_snapshot', COUNT(*) FROM health_snapshots
UNION ALL SELECT 'health_finding', COALESCE(SUM(finding_count), 0) FROM health_snapshots
UNION ALL SELECT 'alert_plan', COUNT(*) FROM alert_plans
UNION ALL SELECT 'acknowledgement', COUNT(*) FROM alert_acknowledgements
UNION ALL SELECT 'executive_report', COUNT(*) FROM executive_reports
UNION ALL SELECT 'schedule_run', COUNT(*) FROM executive_schedule_runs;

INSERT INTO audit_counts (name, value)
SELECT 'delivery:' || subject_kind || ':' || CASE WHEN state = 'completed' AND success THEN 'sent' WHEN state = 'completed' THEN 'failed' ELSE 'in_flight' END, COUNT(*)
FROM deliveries GROUP BY 1;
INSERT INTO audit_counts (name, value)
SELECT 'alert_destination:' || decision, COUNT(*) FROM alert_plan_destinations GROUP BY 1;
INSERT INTO audit_counts (name, value)
SELECT 'acknowledgement_state:' || CASE WHEN acknowledgement_state IN ('acknowledged', 'resolved') THEN 'closed' ELSE 'outstanding' END, COUNT(*)
FROM alert_acknowledgement_states GROUP BY 1;
INSERT INTO audit_counts (name, value)
SELECT 'retry_plan:' || subject_kind, COUNT(*) FROM retry_plans GROUP BY 1;
INSERT INTO audit_counts (name, value)
SELECT 'retry_decision:' || subject_kind || ':' || action, COUNT(*) FROM retry_decisions GROUP BY 1;
INSERT INTO audit_counts (name, value)
SELECT 'retry_worker_run:' || subject_kind || ':' || CASE WHEN dry_run THEN 'dry' ELSE 'live' END, COUNT(*) FROM retry_worker_runs GROUP BY 1;
INSERT INTO audit_counts (name, value)
SELECT 'retry_execution:' || subject_kind || ':' || outcome, COUNT(*) FROM retry_executions GROUP BY 1;

INSERT INTO audit_delivery_groups (subject_kind, subject_id, connector, open_failure, open_executions)
SELECT g.subject_kind, g.subject_id, g.connector,
    CASE WHEN EXISTS (
        SELECT 1 FROM deliveries f
        WHERE f.subject_kind = g.subject_kind AND f.subject_id = g.subject_id AND f.connector = g.connector
          AND f.state = 'completed' AND NOT f.success
          AND NOT EXISTS (SELECT 1 FROM deliveries later
              WHERE later.subject_kind = f.subject_kind AND later.subject_id = f.subject_id AND later.connector = f.connector
                AND later.success AND (later.created_at > f.created_at OR (later.created_at = f.created_at AND later.id > f.id))))
    THEN 1 ELSE 0 END,
    (SELECT COUNT(*) FROM retry_executions x
        WHERE x.subject_kind = g.subject_kind AND x.subject_id = g.subject_id AND x.connector = g.connector
          AND x.outcome IN ('failed', 'skipped')
          AND NOT EXISTS (SELECT 1 FROM deliveries later
              WHERE later.subject_kind = x.subject_kind AND later.subject_id = x.subject_id AND later.connector = x.connector
                AND later.success AND later.created_at > x.started_at))
FROM (SELECT subject_kind, subject_id, connector FROM deliveries
      UNION SELECT subject_kind, subject_id, connector FROM retry_executions) g;
INSERT INTO audit_counts (name, value)
SELECT 'open_failed_delivery_group:' || subject_kind, SUM(open_failure) FROM audit_delivery_groups GROUP BY subject_kind;
INSERT INTO audit_counts (name, value)
SELECT 'open_failed_execution:' || subject_kind, SUM(open_executions) FROM audit_delivery_groups GROUP BY subject_kind;

{{if .PostgreSQL}}
-- +goose StatementBegin
CREATE FUNCTION audit_count(counter TEXT, delta BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF counter IS NOT NULL AND delta <> 0 THEN
        INSERT INTO audit_count_deltas (name, delta) VALUES (counter, delta);
    END IF;
END $$;
-- +goose StatementEnd

-- audit_counter_of names the counter a row of table adds 1 to; tables
-- counted under one fixed name pass it as fixed. The row is read as JSON so
-- one function serves every table.
-- +goose StatementBegin
CREATE FUNCTION audit_counter_of(tbl TEXT, fixed TEXT, r JSONB) RETURNS TEXT LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN CASE tbl
        WHEN 'deliveries' THEN 'delivery:' || (r->>'subject_kind') || ':' ||
            CASE WHEN r->>'state' = 'completed' AND (r->>'success')::boolean THEN 'sent'
                 WHEN r->>'state' = 'completed' THEN 'failed' ELSE 'in_flight' END
        WHEN 'alert_plan_destinations' THEN 'alert_destination:' || (r->>'decision')
        WHEN 'alert_acknowledgement_states' THEN 'acknowledgement_state:' ||
            CASE WHEN r->>'acknowledgement_state' IN ('acknowledged', 'resolved') THEN 'closed' ELSE 'outstanding' END
        WHEN 'retry_plans' THEN 'retry_plan:' || (r->>'subject_kind')
        WHEN 'retry_decisions' THEN 'retry_decision:' || (r->>'subject_kind') || ':' || (r->>'action')
        WHEN 'retry_worker_runs' THEN 'retry_worker_run:' || (r->>'subject_kind') || ':' ||
            CASE WHEN (r->>'dry_run')::boolean THEN 'dry' ELSE 'live' END
        WHEN 'retry_executions' THEN 'retry_execution:' || (r->>'subject_kind') || ':' || (r->>'outcome')
        ELSE fixed END;
END $$;
-- +goose StatementEnd

-- audit_count_row moves a row's count from its old counter to its new one,
-- and keeps health_finding equal to the sum of finding_count.
-- +goose StatementBegin
CREATE FUNCTION audit_count_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    fixed TEXT := CASE WHEN TG_NARGS > 0 THEN TG_ARGV[0] END;
    old_name TEXT;
    new_name TEXT;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        old_name := audit_counter_of(TG_TABLE_NAME, fixed, to_jsonb(OLD));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        new_name := audit_counter_of(TG_TABLE_NAME, fixed, to_jsonb(NEW));
    END IF;
    IF old_name IS DISTINCT FROM new_name THEN
        PERFORM audit_count(old_name, -1);
        PERFORM audit_count(new_name, 1);
    END IF;
    IF TG_TABLE_NAME = 'health_snapshots' THEN
        IF TG_OP <> 'INSERT' THEN PERFORM audit_count('health_finding', -(to_jsonb(OLD)->>'finding_count')::bigint); END IF;
        IF TG_OP <> 'DELETE' THEN PERFORM audit_count('health_finding', (to_jsonb(NEW)->>'finding_count')::bigint); END IF;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- audit_refresh_group recomputes one group's open failure state from its
-- rows. It locks the group row first, so the rows it then reads include
-- every concurrent change committed before it. Sequential scans are off
-- inside it: a plan cached while deliveries was small would otherwise scan
-- the whole table once per row of a bulk insert.
-- +goose StatementBegin
CREATE FUNCTION audit_refresh_group(kind TEXT, subject TEXT, conn TEXT) RETURNS void LANGUAGE plpgsql
SET enable_seqscan = off AS $$
DECLARE
    old_open INTEGER;
    old_executions INTEGER;
    new_open INTEGER;
    new_executions INTEGER;
BEGIN
    INSERT INTO audit_delivery_groups (subject_kind, subject_id, connector) VALUES (kind, subject, conn)
    ON CONFLICT DO NOTHING;
    SELECT open_failure, open_executions INTO old_open, old_executions FROM audit_delivery_groups
    WHERE subject_kind = kind AND subject_id = subject AND connector = conn FOR UPDATE;

    SELECT CASE WHEN EXISTS (
        SELECT 1 FROM deliveries f
        WHERE f.subject_kind = kind AND f.subject_id = subject AND f.connector = conn
          AND f.state = 'completed' AND NOT f.success
          AND NOT EXISTS (SELECT 1 FROM deliveries later
              WHERE later.subject_kind = f.subject_kind AND later.subject_id = f.subject_id AND later.connector = f.connector
                AND later.success AND (later.created_at > f.created_at OR (later.created_at = f.created_at AND later.id > f.id))))
    THEN 1 ELSE 0 END INTO new_open;
    SELECT COUNT(*) INTO new_executions FROM retry_executions x
    WHERE x.subject_kind = kind AND x.subject_id = subject AND x.connector = conn
      AND x.outcome IN ('failed', 'skipped')
      AND NOT EXISTS (SELECT 1 FROM deliveries later
          WHERE later.subject_kind = x.subject_kind AND later.subject_id = x.subject_id AND later.connector = x.connector
            AND later.success AND later.created_at > x.started_at);

    PERFORM audit_count('open_failed_delivery_group:' || kind, new_open - old_open);
    PERFORM audit_count('open_failed_execution:' || kind, new_executions - old_executions);
    UPDATE audit_delivery_groups SET open_failure = new_open, open_executions = new_executions
    WHERE subject_kind = kind AND subject_id = subject AND connector = conn;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION audit_refresh_group_of_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM audit_refresh_group(NEW.subject_kind, NEW.subject_id, NEW.connector);
    RETURN NULL;
END $$;
-- +goose StatementEnd

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
-- SQLite has no trigger functions, so each table has its own triggers, and
-- a group refresh is an insert into the audit_group_refresh view, whose
-- INSTEAD OF trigger recomputes the group.
-- +goose StatementBegin
CREATE TRIGGER health_snapshots_audit_count_insert AFTER INSERT ON health_snapshots BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('health_snapshot', 1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER health_snapshots_audit_count_delete AFTER DELETE ON health_snapshots BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('health_snapshot', -1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER alert_plans_audit_count_insert AFTER INSERT ON alert_plans BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('alert_plan', 1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER alert_plans_audit_count_delete AFTER DELETE ON alert_plans BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('alert_plan', -1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER alert_acknowledgements_audit_count_insert AFTER INSERT ON alert_acknowledgements BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('acknowledgement', 1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER alert_acknowledgements_audit_count_delete AFTER DELETE ON alert_acknowledgements BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('acknowledgement', -1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER executive_reports_audit_count_insert AFTER INSERT ON executive_reports BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('executive_report', 1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER executive_reports_audit_count_delete AFTER DELETE ON executive_reports BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('executive_report', -1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER executive_schedule_runs_audit_count_insert AFTER INSERT ON executive_schedule_runs BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('schedule_run', 1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER executive_schedule_runs_audit_count_delete AFTER DELETE ON executive_schedule_runs BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('schedule_run', -1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER health_snapshots_audit_findings_insert AFTER INSERT ON health_snapshots WHEN NEW.finding_count <> 0 BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('health_finding', NEW.finding_count);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER health_snapshots_audit_findings_update AFTER UPDATE OF finding_count ON health_snapshots WHEN NEW.finding_count <> OLD.finding_count BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('health_finding', NEW.finding_count - OLD.finding_count);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER health_snapshots_audit_findings_delete AFTER DELETE ON health_snapshots WHEN OLD.finding_count <> 0 BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('health_finding', -OLD.finding_count);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER deliveries_audit_count_insert AFTER INSERT ON deliveries BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('delivery:' || NEW.subject_kind || ':' || CASE WHEN NEW.state = 'completed' AND NEW.success THEN 'sent' WHEN NEW.state = 'completed' THEN 'failed' ELSE 'in_flight' END, 1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER deliveries_audit_count_update AFTER UPDATE ON deliveries WHEN ('delivery:' || OLD.subject_kind || ':' || CASE WHEN OLD.state = 'completed' AND OLD.success THEN 'sent' WHEN OLD.state = 'completed' THEN 'failed' ELSE 'in_flight' END) IS NOT ('delivery:' || NEW.subject_kind || ':' || CASE WHEN NEW.state = 'completed' AND NEW.success THEN 'sent' WHEN NEW.state = 'completed' THEN 'failed' ELSE 'in_flight' END) BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('delivery:' || OLD.subject_kind || ':' || CASE WHEN OLD.state = 'completed' AND OLD.success THEN 'sent' WHEN OLD.state = 'completed' THEN 'failed' ELSE 'in_flight' END, -1), ('delivery:' || NEW.subject_kind || ':' || CASE WHEN NEW.state = 'completed' AND NEW.success THEN 'sent' WHEN NEW.state = 'completed' THEN 'failed' ELSE 'in_flight' END, 1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER deliveries_audit_count_delete AFTER DELETE ON deliveries BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('delivery:' || OLD.subject_kind || ':' || CASE WHEN OLD.state = 'completed' AND OLD.success THEN 'sent' WHEN OLD.state = 'completed' THEN 'failed' ELSE 'in_flight' END, -1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER alert_plan_destinations_audit_count_insert AFTER INSERT ON alert_plan_destinations BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('alert_destination:' || NEW.decision, 1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER alert_plan_destinations_audit_count_update AFTER UPDATE ON alert_plan_destinations WHEN ('alert_destination:' || OLD.decision) IS NOT ('alert_destination:' || NEW.decision) BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('alert_destination:' || OLD.decision, -1), ('alert_destination:' || NEW.decision, 1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER alert_plan_destinations_audit_count_delete AFTER DELETE ON alert_plan_destinations BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('alert_destination:' || OLD.decision, -1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER alert_acknowledgement_states_audit_count_insert AFTER INSERT ON alert_acknowledgement_states BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('acknowledgement_state:' || CASE WHEN NEW.acknowledgement_state IN ('acknowledged', 'resolved') THEN 'closed' ELSE 'outstanding' END, 1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER alert_acknowledgement_states_audit_count_update AFTER UPDATE ON alert_acknowledgement_states WHEN ('acknowledgement_state:' || CASE WHEN OLD.acknowledgement_state IN ('acknowledged', 'resolved') THEN 'closed' ELSE 'outstanding' END) IS NOT ('acknowledgement_state:' || CASE WHEN NEW.acknowledgement_state IN ('acknowledged', 'resolved') THEN 'closed' ELSE 'outstanding' END) BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('acknowledgement_state:' || CASE WHEN OLD.acknowledgement_state IN ('acknowledged', 'resolved') THEN 'closed' ELSE 'outstanding' END, -1), ('acknowledgement_state:' || CASE WHEN NEW.acknowledgement_state IN ('acknowledged', 'resolved') THEN 'closed' ELSE 'outstanding' END, 1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER alert_acknowledgement_states_audit_count_delete AFTER DELETE ON alert_acknowledgement_states BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('acknowledgement_state:' || CASE WHEN OLD.acknowledgement_state IN ('acknowledged', 'resolved') THEN 'closed' ELSE 'outstanding' END, -1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER retry_plans_audit_count_insert AFTER INSERT ON retry_plans BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('retry_plan:' || NEW.subject_kind, 1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER retry_plans_audit_count_update AFTER UPDATE ON retry_plans WHEN ('retry_plan:' || OLD.subject_kind) IS NOT ('retry_plan:' || NEW.subject_kind) BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('retry_plan:' || OLD.subject_kind, -1), ('retry_plan:' || NEW.subject_kind, 1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER retry_plans_audit_count_delete AFTER DELETE ON retry_plans BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('retry_plan:' || OLD.subject_kind, -1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER retry_decisions_audit_count_insert AFTER INSERT ON retry_decisions BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('retry_decision:' || NEW.subject_kind || ':' || NEW.action, 1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER retry_decisions_audit_count_update AFTER UPDATE ON retry_decisions WHEN ('retry_decision:' || OLD.subject_kind || ':' || OLD.action) IS NOT ('retry_decision:' || NEW.subject_kind || ':' || NEW.action) BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('retry_decision:' || OLD.subject_kind || ':' || OLD.action, -1), ('retry_decision:' || NEW.subject_kind || ':' || NEW.action, 1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER retry_decisions_audit_count_delete AFTER DELETE ON retry_decisions BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('retry_decision:' || OLD.subject_kind || ':' || OLD.action, -1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER retry_worker_runs_audit_count_insert AFTER INSERT ON retry_worker_runs BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('retry_worker_run:' || NEW.subject_kind || ':' || CASE WHEN NEW.dry_run THEN 'dry' ELSE 'live' END, 1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER retry_worker_runs_audit_count_update AFTER UPDATE ON retry_worker_runs WHEN ('retry_worker_run:' || OLD.subject_kind || ':' || CASE WHEN OLD.dry_run THEN 'dry' ELSE 'live' END) IS NOT ('retry_worker_run:' || NEW.subject_kind || ':' || CASE WHEN NEW.dry_run THEN 'dry' ELSE 'live' END) BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('retry_worker_run:' || OLD.subject_kind || ':' || CASE WHEN OLD.dry_run THEN 'dry' ELSE 'live' END, -1), ('retry_worker_run:' || NEW.subject_kind || ':' || CASE WHEN NEW.dry_run THEN 'dry' ELSE 'live' END, 1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER retry_worker_runs_audit_count_delete AFTER DELETE ON retry_worker_runs BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('retry_worker_run:' || OLD.subject_kind || ':' || CASE WHEN OLD.dry_run THEN 'dry' ELSE 'live' END, -1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER retry_executions_audit_count_insert AFTER INSERT ON retry_executions BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('retry_execution:' || NEW.subject_kind || ':' || NEW.outcome, 1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER retry_executions_audit_count_update AFTER UPDATE ON retry_executions WHEN ('retry_execution:' || OLD.subject_kind || ':' || OLD.outcome) IS NOT ('retry_execution:' || NEW.subject_kind || ':' || NEW.outcome) BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('retry_execution:' || OLD.subject_kind || ':' || OLD.outcome, -1), ('retry_execution:' || NEW.subject_kind || ':' || NEW.outcome, 1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER retry_executions_audit_count_delete AFTER DELETE ON retry_executions BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('retry_execution:' || OLD.subject_kind || ':' || OLD.outcome, -1);
END;
-- +goose StatementEnd
CREATE VIEW audit_group_refresh AS SELECT '' AS subject_kind, '' AS subject_id, '' AS connector WHERE 0;
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
    SELECT 'open_failed_execution:' || NEW.subject_kind, (SELECT COUNT(*) FROM retry_executions x
        WHERE x.subject_kind = NEW.subject_kind AND x.subject_id = NEW.subject_id AND x.connector = NEW.connector
          AND x.outcome IN ('failed', 'skipped')
          AND NOT EXISTS (SELECT 1 FROM deliveries later
              WHERE later.subject_kind = x.subject_kind AND later.subject_id = x.subject_id AND later.connector = x.connector
                AND later.success AND later.created_at > x.started_at)) - g.open_executions
    FROM audit_delivery_groups g WHERE g.subject_kind = NEW.subject_kind AND g.subject_id = NEW.subject_id AND g.connector = NEW.connector AND (SELECT COUNT(*) FROM retry_executions x
        WHERE x.subject_kind = NEW.subject_kind AND x.subject_id = NEW.subject_id AND x.connector = NEW.connector
          AND x.outcome IN ('failed', 'skipped')
          AND NOT EXISTS (SELECT 1 FROM deliveries later
              WHERE later.subject_kind = x.subject_kind AND later.subject_id = x.subject_id AND later.connector = x.connector
                AND later.success AND later.created_at > x.started_at)) <> g.open_executions;
    UPDATE audit_delivery_groups SET open_failure = (CASE WHEN EXISTS (
            SELECT 1 FROM deliveries f
            WHERE f.subject_kind = NEW.subject_kind AND f.subject_id = NEW.subject_id AND f.connector = NEW.connector
              AND f.state = 'completed' AND NOT f.success
              AND NOT EXISTS (SELECT 1 FROM deliveries later
                  WHERE later.subject_kind = f.subject_kind AND later.subject_id = f.subject_id AND later.connector = f.connector
                    AND later.success AND (later.created_at > f.created_at OR (later.created_at = f.created_at AND later.id > f.id))))
        THEN 1 ELSE 0 END), open_executions = (SELECT COUNT(*) FROM retry_executions x
        WHERE x.subject_kind = NEW.subject_kind AND x.subject_id = NEW.subject_id AND x.connector = NEW.connector
          AND x.outcome IN ('failed', 'skipped')
          AND NOT EXISTS (SELECT 1 FROM deliveries later
              WHERE later.subject_kind = x.subject_kind AND later.subject_id = x.subject_id AND later.connector = x.connector
                AND later.success AND later.created_at > x.started_at))
    WHERE subject_kind = NEW.subject_kind AND subject_id = NEW.subject_id AND connector = NEW.connector;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER deliveries_audit_group_insert AFTER INSERT ON deliveries WHEN NEW.state = 'completed' BEGIN
    INSERT INTO audit_group_refresh (subject_kind, subject_id, connector) VALUES (NEW.subject_kind, NEW.subject_id, NEW.connector);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER deliveries_audit_group_update AFTER UPDATE ON deliveries WHEN NEW.state IS NOT OLD.state OR NEW.success IS NOT OLD.success BEGIN
    INSERT INTO audit_group_refresh (subject_kind, subject_id, connector) VALUES (NEW.subject_kind, NEW.subject_id, NEW.connector);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER retry_executions_audit_group_insert AFTER INSERT ON retry_executions WHEN NEW.outcome IN ('failed', 'skipped') BEGIN
    INSERT INTO audit_group_refresh (subject_kind, subject_id, connector) VALUES (NEW.subject_kind, NEW.subject_id, NEW.connector);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER retry_executions_audit_group_update AFTER UPDATE ON retry_executions WHEN NEW.outcome IS NOT OLD.outcome BEGIN
    INSERT INTO audit_group_refresh (subject_kind, subject_id, connector) VALUES (NEW.subject_kind, NEW.subject_id, NEW.connector);
END;
-- +goose StatementEnd
{{end}}

-- +goose Down
{{if .PostgreSQL}}
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
DROP FUNCTION audit_refresh_group_of_row();
DROP FUNCTION audit_refresh_group(TEXT, TEXT, TEXT);
DROP FUNCTION audit_count_row();
DROP FUNCTION audit_counter_of(TEXT, TEXT, JSONB);
DROP FUNCTION audit_count(TEXT, BIGINT);
{{else}}
DROP TRIGGER health_snapshots_audit_count_insert;
DROP TRIGGER health_snapshots_audit_count_delete;
DROP TRIGGER alert_plans_audit_count_insert;
DROP TRIGGER alert_plans_audit_count_delete;
DROP TRIGGER alert_acknowledgements_audit_count_insert;
DROP TRIGGER alert_acknowledgements_audit_count_delete;
DROP TRIGGER executive_reports_audit_count_insert;
DROP TRIGGER executive_reports_audit_count_delete;
DROP TRIGGER executive_schedule_runs_audit_count_insert;
DROP TRIGGER executive_schedule_runs_audit_count_delete;
DROP TRIGGER health_snapshots_audit_findings_insert;
DROP TRIGGER health_snapshots_audit_findings_update;
DROP TRIGGER health_snapshots_audit_findings_delete;
DROP TRIGGER deliveries_audit_count_insert;
DROP TRIGGER deliveries_audit_count_update;
DROP TRIGGER deliveries_audit_count_delete;
DROP TRIGGER alert_plan_destinations_audit_count_insert;
DROP TRIGGER alert_plan_destinations_audit_count_update;
DROP TRIGGER alert_plan_destinations_audit_count_delete;
DROP TRIGGER alert_acknowledgement_states_audit_count_insert;
DROP TRIGGER alert_acknowledgement_states_audit_count_update;
DROP TRIGGER alert_acknowledgement_states_audit_count_delete;
DROP TRIGGER retry_plans_audit_count_insert;
DROP TRIGGER retry_plans_audit_count_update;
DROP TRIGGER retry_plans_audit_count_delete;
DROP TRIGGER retry_decisions_audit_count_insert;
DROP TRIGGER retry_decisions_audit_count_update;
DROP TRIGGER retry_decisions_audit_count_delete;
DROP TRIGGER retry_worker_runs_audit_count_insert;
DROP TRIGGER retry_worker_runs_audit_count_update;
DROP TRIGGER retry_worker_runs_audit_count_delete;
DROP TRIGGER retry_executions_audit_count_insert;
DROP TRIGGER retry_executions_audit_count_update;
DROP TRIGGER retry_executions_audit_count_delete;
DROP TRIGGER deliveries_audit_group_insert;
DROP TRIGGER deliveries_audit_group_update;
DROP TRIGGER retry_executions_audit_group_insert;
DROP TRIGGER retry_executions_audit_group_update;
DROP TRIGGER audit_group_refresh_insert;
DROP VIEW audit_group_refresh;
{{end}}
DROP INDEX retry_executions_history;
DROP INDEX retry_worker_runs_history;
DROP INDEX retry_plans_history;
DROP INDEX executive_schedule_runs_history;
DROP INDEX executive_reports_history;
DROP INDEX alert_acknowledgements_history;
DROP INDEX deliveries_history;
DROP INDEX alert_plans_history;
DROP INDEX health_snapshots_history;
DROP TABLE audit_delivery_groups;
DROP TABLE audit_count_deltas;
DROP TABLE audit_counts;
