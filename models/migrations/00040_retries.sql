-- +goose Up
-- Delivery retry plans: one row per plan, with the retry policy it used, and
-- one row per decision for a (subject, destination) group that had open
-- failures when the plan was made. The same tables serve executive report
-- deliveries and health alert deliveries, told apart by subject_kind.
CREATE TABLE retry_plans (
    id                    TEXT PRIMARY KEY,
    subject_kind          TEXT NOT NULL,
    max_retry_attempts    INTEGER NOT NULL,
    retry_delay_minutes   INTEGER NOT NULL,
    allow_immediate_retry BOOLEAN NOT NULL,
    backoff_multiplier    DOUBLE PRECISION NOT NULL,
    decision_count        INTEGER NOT NULL,
    retry_count           INTEGER NOT NULL,
    wait_count            INTEGER NOT NULL,
    suppress_count        INTEGER NOT NULL,
    worker_run_id         TEXT NOT NULL DEFAULT '',
    actor                 TEXT NOT NULL,
    created_at            {{.Timestamp}} NOT NULL
);
CREATE INDEX retry_plans_kind_created_at ON retry_plans (subject_kind, created_at);

-- state is 'pending' for a retry decision not yet executed, 'claimed' once a
-- live worker run has claimed it, and 'none' for wait and suppress decisions
-- and for retry decisions that a dry run only selected.
CREATE TABLE retry_decisions (
    id               TEXT PRIMARY KEY,
    plan_id          TEXT NOT NULL REFERENCES retry_plans (id),
    position         INTEGER NOT NULL,
    subject_kind     TEXT NOT NULL,
    subject_id       TEXT NOT NULL,
    subject_key      TEXT NOT NULL,
    connector        TEXT NOT NULL,
    action           TEXT NOT NULL,
    reason           TEXT NOT NULL,
    failure_count    INTEGER NOT NULL,
    last_failure_at  {{.Timestamp}},
    last_error_class TEXT NOT NULL,
    next_retry_at    {{.Timestamp}},
    last_delivery_id TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL,
    selected         BOOLEAN NOT NULL,
    state            TEXT NOT NULL,
    claimed_by       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX retry_decisions_plan ON retry_decisions (plan_id, position);
CREATE INDEX retry_decisions_group ON retry_decisions (subject_kind, subject_id, connector);

-- One run of the retry worker, dry or live, with the policy and schedule it
-- ran under and the tally of its executions.
CREATE TABLE retry_worker_runs (
    id                        TEXT PRIMARY KEY,
    subject_kind              TEXT NOT NULL,
    plan_id                   TEXT NOT NULL REFERENCES retry_plans (id),
    dry_run                   BOOLEAN NOT NULL,
    actor                     TEXT NOT NULL,
    max_retry_deliveries      INTEGER NOT NULL,
    schedule_enabled          BOOLEAN NOT NULL,
    schedule_interval_minutes INTEGER NOT NULL,
    schedule_cadence          TEXT NOT NULL,
    window_start              {{.Timestamp}} NOT NULL,
    window_end                {{.Timestamp}} NOT NULL,
    retryable_count           INTEGER NOT NULL,
    selected_count            INTEGER NOT NULL,
    delivered_count           INTEGER NOT NULL,
    failed_count              INTEGER NOT NULL,
    skipped_count             INTEGER NOT NULL,
    reconciled_count          INTEGER NOT NULL,
    state                     TEXT NOT NULL,
    created_at                {{.Timestamp}} NOT NULL,
    completed_at              {{.Timestamp}}
);
CREATE INDEX retry_worker_runs_kind_created_at ON retry_worker_runs (subject_kind, created_at);

-- One execution of one selected retry decision by a live worker run.
-- decision_id is unique so a decision executes at most once. claim_key
-- names the group and its retry number (kind, subject, destination, failures
-- so far); it is unique so two plans made at the same moment cannot both
-- execute the same retry. Skipped executions send nothing and leave it NULL.
CREATE TABLE retry_executions (
    id              TEXT PRIMARY KEY,
    decision_id     TEXT NOT NULL UNIQUE,
    claim_key       TEXT UNIQUE,
    worker_run_id   TEXT NOT NULL REFERENCES retry_worker_runs (id),
    plan_id         TEXT NOT NULL REFERENCES retry_plans (id),
    subject_kind    TEXT NOT NULL,
    subject_id      TEXT NOT NULL,
    subject_key     TEXT NOT NULL,
    connector       TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    reason          TEXT NOT NULL,
    delivery_id     TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    started_at      {{.Timestamp}} NOT NULL,
    completed_at    {{.Timestamp}}
);
CREATE INDEX retry_executions_run ON retry_executions (worker_run_id, started_at);
CREATE INDEX retry_executions_outcome ON retry_executions (subject_kind, outcome, started_at);
CREATE INDEX retry_executions_group ON retry_executions (subject_kind, subject_id, connector, started_at);

-- +goose Down
DROP TABLE retry_executions;
DROP TABLE retry_worker_runs;
DROP TABLE retry_decisions;
DROP TABLE retry_plans;
