-- +goose Up
-- The comma-separated destinations a plan was eligible to send to: the
-- requested ones that were configured and enabled. A plan of a healthy
-- evaluation stores no destination rows, so only this column keeps them.
-- Plans stored before this column have it empty, and their destination
-- rows list the eligible ones.
ALTER TABLE alert_plans ADD COLUMN eligible_providers TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE alert_plans DROP COLUMN eligible_providers;
