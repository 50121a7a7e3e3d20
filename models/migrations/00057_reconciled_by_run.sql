-- +goose Up
-- The live worker run that recorded the outcome of an execution a stopped
-- worker left in flight, so that run can list what it reconciled. Empty for every
-- other execution, including those reconciled before this column existed.
ALTER TABLE retry_executions ADD COLUMN reconciled_by_run_id TEXT NOT NULL DEFAULT '';
CREATE INDEX retry_executions_reconciled_by ON retry_executions (reconciled_by_run_id) WHERE reconciled_by_run_id <> '';

-- +goose Down
DROP INDEX retry_executions_reconciled_by;
ALTER TABLE retry_executions DROP COLUMN reconciled_by_run_id;
