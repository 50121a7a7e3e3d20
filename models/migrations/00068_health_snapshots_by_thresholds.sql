-- +goose Up
-- A new health snapshot continues the occurrence of the newest snapshot
-- evaluated with the same thresholds, which this index finds directly.
CREATE INDEX health_snapshots_thresholds ON health_snapshots (expected_interval_minutes, stale_metadata_minutes, evaluated_at, id);

-- +goose Down
DROP INDEX health_snapshots_thresholds;
