-- +goose Up
-- retryable_decision:<kind> is the sum of retry_plans.retry_count over the
-- plans of a subject kind. A worker run's plan stores only the decisions it
-- selected, but its retry_count tallies every group it found due, so this
-- counter equals the retryable decision total of retry health. The older
-- retry_decision:<kind>:retry counter of stored decision rows stays.
{{if .PostgreSQL}}
-- Writers of retry plans wait until this migration commits, so no plan is
-- missed or counted twice between the total below and the new triggers.
LOCK TABLE retry_plans IN SHARE ROW EXCLUSIVE MODE;

DROP TRIGGER retry_plans_audit_count_insert ON retry_plans;
DROP TRIGGER retry_plans_audit_count_update ON retry_plans;
DROP TRIGGER retry_plans_audit_count_delete ON retry_plans;
CREATE TRIGGER retry_plans_audit_count_insert AFTER INSERT ON retry_plans REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'retry_plan:' || subject_kind$$, '1', $$'retryable_decision:' || subject_kind$$, 'retry_count');
CREATE TRIGGER retry_plans_audit_count_update AFTER UPDATE ON retry_plans REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'retry_plan:' || subject_kind$$, '1', $$'retryable_decision:' || subject_kind$$, 'retry_count');
CREATE TRIGGER retry_plans_audit_count_delete AFTER DELETE ON retry_plans REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'retry_plan:' || subject_kind$$, '1', $$'retryable_decision:' || subject_kind$$, 'retry_count');
{{else}}
-- +goose StatementBegin
CREATE TRIGGER retry_plans_audit_retryable_insert AFTER INSERT ON retry_plans WHEN NEW.retry_count <> 0 BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('retryable_decision:' || NEW.subject_kind, NEW.retry_count);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER retry_plans_audit_retryable_update AFTER UPDATE ON retry_plans
WHEN OLD.retry_count IS NOT NEW.retry_count OR OLD.subject_kind IS NOT NEW.subject_kind BEGIN
    INSERT INTO audit_count_deltas (name, delta)
    VALUES ('retryable_decision:' || OLD.subject_kind, -OLD.retry_count), ('retryable_decision:' || NEW.subject_kind, NEW.retry_count);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER retry_plans_audit_retryable_delete AFTER DELETE ON retry_plans WHEN OLD.retry_count <> 0 BEGIN
    INSERT INTO audit_count_deltas (name, delta) VALUES ('retryable_decision:' || OLD.subject_kind, -OLD.retry_count);
END;
-- +goose StatementEnd
{{end}}

-- The total of the plans that exist when this migration runs.
INSERT INTO audit_count_deltas (name, delta)
SELECT 'retryable_decision:' || subject_kind, SUM(retry_count) FROM retry_plans
GROUP BY subject_kind HAVING SUM(retry_count) <> 0;

-- +goose Down
{{if .PostgreSQL}}
DROP TRIGGER retry_plans_audit_count_insert ON retry_plans;
DROP TRIGGER retry_plans_audit_count_update ON retry_plans;
DROP TRIGGER retry_plans_audit_count_delete ON retry_plans;
CREATE TRIGGER retry_plans_audit_count_insert AFTER INSERT ON retry_plans REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'retry_plan:' || subject_kind$$, '1');
CREATE TRIGGER retry_plans_audit_count_update AFTER UPDATE ON retry_plans REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'retry_plan:' || subject_kind$$, '1');
CREATE TRIGGER retry_plans_audit_count_delete AFTER DELETE ON retry_plans REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_count_changes($$'retry_plan:' || subject_kind$$, '1');
{{else}}
DROP TRIGGER retry_plans_audit_retryable_delete;
DROP TRIGGER retry_plans_audit_retryable_update;
DROP TRIGGER retry_plans_audit_retryable_insert;
{{end}}
DELETE FROM audit_count_deltas WHERE name LIKE 'retryable_decision:%';
DELETE FROM audit_counts WHERE name LIKE 'retryable_decision:%';
