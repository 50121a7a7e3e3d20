-- +goose Up
-- The console shows the newest plan made by POST …/delivery-retry-plan,
-- which keeps every decision. Worker runs store a plan each, so without
-- this index finding that plan would step over every later worker run.
CREATE INDEX retry_plans_planned ON retry_plans (subject_kind, created_at) WHERE worker_run_id = '';

-- +goose Down
DROP INDEX retry_plans_planned;
