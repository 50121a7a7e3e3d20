-- +goose Up
-- The retries a person confirmed that a live run left out, each with its
-- cause and reason, as a JSON array; empty when the run left none out or
-- had no listed confirmation.
ALTER TABLE retry_worker_runs ADD COLUMN confirmed_not_sent TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE retry_worker_runs DROP COLUMN confirmed_not_sent;
