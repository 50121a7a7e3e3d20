-- +goose Up
-- The quick retries and per-attempt timeout each live retry delivery of a
-- worker run used. Runs made before they could be chosen used one quick
-- retry and 10 seconds, which the defaults record.
ALTER TABLE retry_worker_runs ADD COLUMN send_retries INTEGER NOT NULL DEFAULT 1;
ALTER TABLE retry_worker_runs ADD COLUMN send_timeout_ms INTEGER NOT NULL DEFAULT 10000;

-- +goose Down
ALTER TABLE retry_worker_runs DROP COLUMN send_timeout_ms;
ALTER TABLE retry_worker_runs DROP COLUMN send_retries;
