-- +goose Up
-- The health alert retry rules suppress an open group when another open
-- group of the same alert (subject key) and destination failed later, so
-- only the newest failure of an alert at a destination is retried. This
-- index finds such a group without reading the other groups of the kind.
CREATE INDEX audit_delivery_groups_open_key ON audit_delivery_groups (subject_kind, subject_key, connector, last_failure_at, last_failure_id)
WHERE failure_count > 0;

-- +goose Down
DROP INDEX audit_delivery_groups_open_key;
