-- +goose Up
{{if .PostgreSQL}}
-- audit_refresh_changed_groups locks the existing group rows of the
-- deliveries a statement completed before it decides whether a success
-- closes its group. A group whose first completed delivery another
-- transaction was still writing had no row yet, so it was neither locked
-- nor closed, and when that transaction committed a failure the group
-- stayed counted as open. This trigger fires just before it, creates the
-- missing rows, and waits for a concurrent insert of the same row to
-- commit, so the lock that follows covers every touched group.
-- +goose StatementBegin
CREATE FUNCTION audit_create_changed_groups() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_delivery_groups (subject_kind, subject_id, connector)
    SELECT DISTINCT n.subject_kind, n.subject_id, n.connector FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE n.state IS DISTINCT FROM o.state OR n.success IS DISTINCT FROM o.success
    ORDER BY 1, 2, 3
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- Triggers of one event fire in name order, so this one runs after the
-- counts and before deliveries_audit_group_update.
CREATE TRIGGER deliveries_audit_group_create AFTER UPDATE ON deliveries
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_create_changed_groups();
{{else}}
-- SQLite has one writer at a time, so no other transaction can be writing
-- a group row while a trigger reads it.
SELECT 1;
{{end}}

-- +goose Down
{{if .PostgreSQL}}
DROP TRIGGER deliveries_audit_group_create ON deliveries;
DROP FUNCTION audit_create_changed_groups();
{{else}}
SELECT 1;
{{end}}
