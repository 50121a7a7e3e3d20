-- +goose Up
-- The live worker run that recorded as interrupted a send a stopped server
-- left in flight, so the delivery's audit chain and the run name each
-- other. Empty for every other delivery, including those recorded before
-- this column existed.
ALTER TABLE deliveries ADD COLUMN reconciled_by_run_id TEXT NOT NULL DEFAULT '';
CREATE INDEX deliveries_reconciled_by ON deliveries (reconciled_by_run_id) WHERE reconciled_by_run_id <> '';

-- +goose Down
DROP INDEX deliveries_reconciled_by;
ALTER TABLE deliveries DROP COLUMN reconciled_by_run_id;
