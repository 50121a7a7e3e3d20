-- +goose Up
-- Persisted executive recovery reports. The report is kept as the JSON that
-- was returned when it was built, with its key figures in typed columns so
-- lists and dashboards count them without decoding the JSON.
CREATE TABLE executive_reports (
    id                      TEXT PRIMARY KEY,
    status                  TEXT NOT NULL,
    recovery_slo_minutes    INTEGER NOT NULL,
    period_days             INTEGER NOT NULL,
    period_start            {{.Timestamp}} NOT NULL,
    period_end              {{.Timestamp}} NOT NULL,
    execution_count         INTEGER NOT NULL,
    failed_execution_count  INTEGER NOT NULL,
    open_recovery_count     INTEGER NOT NULL,
    slo_breach_count        INTEGER NOT NULL,
    escalation_count        INTEGER NOT NULL,
    key_risk_count          INTEGER NOT NULL,
    actor                   TEXT NOT NULL,
    generated_at            {{.Timestamp}} NOT NULL,
    report                  TEXT NOT NULL
);
CREATE INDEX executive_reports_generated_at ON executive_reports (generated_at);
CREATE INDEX executive_reports_status ON executive_reports (status, generated_at);

-- One scheduled production of a report: the schedule it ran under and the
-- interval-aligned window [window_start, window_end) that contained its time.
CREATE TABLE executive_schedule_runs (
    id                TEXT PRIMARY KEY,
    report_id         TEXT NOT NULL REFERENCES executive_reports (id),
    interval_minutes  INTEGER NOT NULL,
    enabled           BOOLEAN NOT NULL,
    cadence           TEXT NOT NULL,
    window_start      {{.Timestamp}} NOT NULL,
    window_end        {{.Timestamp}} NOT NULL,
    actor             TEXT NOT NULL,
    created_at        {{.Timestamp}} NOT NULL
);
CREATE INDEX executive_schedule_runs_created_at ON executive_schedule_runs (created_at);
CREATE INDEX executive_schedule_runs_report ON executive_schedule_runs (report_id);
CREATE INDEX executive_schedule_runs_window ON executive_schedule_runs (window_start);

-- +goose Down
DROP TABLE executive_schedule_runs;
DROP TABLE executive_reports;
