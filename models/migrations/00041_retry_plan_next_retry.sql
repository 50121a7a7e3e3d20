-- +goose Up
-- next_retry_at is the earliest next retry time of the plan's wait
-- decisions, or NULL when none waits. A worker run stores only its selected
-- decisions, so this column keeps when the next waiting failure is due.
ALTER TABLE retry_plans ADD COLUMN next_retry_at {{.Timestamp}};

-- +goose Down
ALTER TABLE retry_plans DROP COLUMN next_retry_at;
