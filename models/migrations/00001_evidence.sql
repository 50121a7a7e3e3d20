-- +goose Up
-- Ingested upstream evidence. Each table has the record's own id as primary
-- key (ingestion is idempotent on it), a typed, indexed column for every field
-- a computation reads, and the raw item as JSON text for the audit trail.

CREATE TABLE escalation_retry_plans (
    id              TEXT PRIMARY KEY,
    session_id      TEXT NOT NULL DEFAULT '',
    retryable_count INTEGER NOT NULL,
    created_at      {{.Timestamp}} NOT NULL,
    ingested_at     {{.Timestamp}} NOT NULL,
    raw             TEXT NOT NULL
);
CREATE INDEX escalation_retry_plans_created_at ON escalation_retry_plans (created_at);

CREATE TABLE escalation_worker_runs (
    id                            TEXT PRIMARY KEY,
    session_id                    TEXT NOT NULL DEFAULT '',
    dry_run                       BOOLEAN NOT NULL,
    selected_retry_count          INTEGER NOT NULL,
    acknowledgement_pending_count INTEGER NOT NULL,
    schedule_enabled              BOOLEAN NOT NULL,
    created_at                    {{.Timestamp}} NOT NULL,
    ingested_at                   {{.Timestamp}} NOT NULL,
    raw                           TEXT NOT NULL
);
CREATE INDEX escalation_worker_runs_created_at ON escalation_worker_runs (created_at);

CREATE TABLE escalation_retry_executions (
    id               TEXT PRIMARY KEY,
    session_id       TEXT NOT NULL DEFAULT '',
    plan_id          TEXT NOT NULL,
    provider         TEXT NOT NULL,
    execution_status TEXT NOT NULL,
    created_at       {{.Timestamp}} NOT NULL,
    ingested_at      {{.Timestamp}} NOT NULL,
    raw              TEXT NOT NULL
);
CREATE INDEX escalation_retry_executions_pair ON escalation_retry_executions (plan_id, provider, created_at);
CREATE INDEX escalation_retry_executions_created_at ON escalation_retry_executions (created_at);

-- The latest execution per (escalation plan, provider), maintained on ingest,
-- so open failures are found without scanning every execution.
CREATE TABLE escalation_execution_pairs (
    plan_id             TEXT NOT NULL,
    provider            TEXT NOT NULL,
    latest_execution_id TEXT NOT NULL,
    latest_status       TEXT NOT NULL,
    latest_at           {{.Timestamp}} NOT NULL,
    open_failure        BOOLEAN NOT NULL,
    PRIMARY KEY (plan_id, provider)
);
CREATE INDEX escalation_execution_pairs_open ON escalation_execution_pairs (open_failure, latest_at);

CREATE TABLE escalation_deliveries (
    id               TEXT PRIMARY KEY,
    session_id       TEXT NOT NULL DEFAULT '',
    delivery_success BOOLEAN NOT NULL,
    providers        TEXT NOT NULL,
    failed_providers TEXT NOT NULL,
    status_codes     TEXT NOT NULL,
    created_at       {{.Timestamp}} NOT NULL,
    ingested_at      {{.Timestamp}} NOT NULL,
    raw              TEXT NOT NULL
);
CREATE INDEX escalation_deliveries_created_at ON escalation_deliveries (created_at);
CREATE INDEX escalation_deliveries_success ON escalation_deliveries (delivery_success, created_at);

CREATE TABLE audit_retry_executions (
    id               TEXT PRIMARY KEY,
    session_id       TEXT NOT NULL DEFAULT '',
    provider         TEXT NOT NULL,
    execution_status TEXT NOT NULL,
    executed_at      {{.Timestamp}} NOT NULL,
    ingested_at      {{.Timestamp}} NOT NULL,
    raw              TEXT NOT NULL
);
CREATE INDEX audit_retry_executions_executed_at ON audit_retry_executions (executed_at);
CREATE INDEX audit_retry_executions_provider ON audit_retry_executions (provider, executed_at);

CREATE TABLE recovery_playbooks (
    id           TEXT PRIMARY KEY,
    session_id   TEXT NOT NULL DEFAULT '',
    generated_at {{.Timestamp}} NOT NULL,
    ingested_at  {{.Timestamp}} NOT NULL,
    raw          TEXT NOT NULL
);
CREATE INDEX recovery_playbooks_generated_at ON recovery_playbooks (generated_at);

CREATE TABLE recovery_playbook_providers (
    playbook_id   TEXT NOT NULL REFERENCES recovery_playbooks (id),
    provider      TEXT NOT NULL,
    category      TEXT NOT NULL,
    failure_count INTEGER NOT NULL,
    generated_at  {{.Timestamp}} NOT NULL,
    PRIMARY KEY (playbook_id, provider, category)
);
CREATE INDEX recovery_playbook_providers_provider ON recovery_playbook_providers (provider, generated_at);

CREATE TABLE recovery_closures (
    id            TEXT PRIMARY KEY,
    session_id    TEXT NOT NULL DEFAULT '',
    playbook_id   TEXT NOT NULL,
    provider      TEXT NOT NULL,
    closure_state TEXT NOT NULL,
    closed_at     {{.Timestamp}} NOT NULL,
    ingested_at   {{.Timestamp}} NOT NULL,
    raw           TEXT NOT NULL
);
CREATE INDEX recovery_closures_pair ON recovery_closures (playbook_id, provider, closed_at);
CREATE INDEX recovery_closures_closed_at ON recovery_closures (closed_at);

-- Exact running totals of ingested evidence, incremented in the same
-- transaction as the rows they count, so health evaluation reads counts in
-- constant time however much evidence is stored.
CREATE TABLE evidence_counts (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

-- Persisted recovery retry health evaluations.
CREATE TABLE health_snapshots (
    id                        TEXT PRIMARY KEY,
    fingerprint               TEXT NOT NULL,
    occurrence_id             TEXT NOT NULL,
    alert_level               TEXT NOT NULL,
    finding_count             INTEGER NOT NULL,
    expected_interval_minutes INTEGER NOT NULL,
    stale_metadata_minutes    INTEGER NOT NULL,
    actor                     TEXT NOT NULL,
    evaluated_at              {{.Timestamp}} NOT NULL,
    report                    TEXT NOT NULL
);
CREATE INDEX health_snapshots_evaluated_at ON health_snapshots (evaluated_at);
CREATE INDEX health_snapshots_fingerprint ON health_snapshots (fingerprint, evaluated_at);
CREATE INDEX health_snapshots_level ON health_snapshots (alert_level, evaluated_at);

-- +goose Down
DROP TABLE health_snapshots;
DROP TABLE evidence_counts;
DROP TABLE recovery_closures;
DROP TABLE recovery_playbook_providers;
DROP TABLE recovery_playbooks;
DROP TABLE audit_retry_executions;
DROP TABLE escalation_deliveries;
DROP TABLE escalation_execution_pairs;
DROP TABLE escalation_retry_executions;
DROP TABLE escalation_worker_runs;
DROP TABLE escalation_retry_plans;
