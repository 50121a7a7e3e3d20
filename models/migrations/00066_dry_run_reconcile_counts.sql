-- +goose Up
-- What a live run started at the time of a dry run would have recorded as
-- interrupted first: retry executions and plain sends left in flight. Only
-- dry runs set them, because a live run records what it reconciled.
ALTER TABLE retry_worker_runs ADD COLUMN would_interrupt_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE retry_worker_runs ADD COLUMN would_interrupt_send_count INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE retry_worker_runs DROP COLUMN would_interrupt_send_count;
ALTER TABLE retry_worker_runs DROP COLUMN would_interrupt_count;
