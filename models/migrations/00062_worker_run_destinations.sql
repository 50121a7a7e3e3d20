-- +goose Up
-- The destinations a worker run was limited to, comma-separated, or empty
-- for a run over every destination, so the run's record says why retries
-- to other destinations were not selected.
ALTER TABLE retry_worker_runs ADD COLUMN only_destinations TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE retry_worker_runs DROP COLUMN only_destinations;
