-- +goose Up
-- Each live run completes the running worker runs that a stopped worker
-- left behind. Few runs are ever running, so this index finds them without
-- stepping over every completed run of the subject kind.
CREATE INDEX retry_worker_runs_running ON retry_worker_runs (subject_kind, created_at) WHERE state = 'running';

-- +goose Down
DROP INDEX retry_worker_runs_running;
