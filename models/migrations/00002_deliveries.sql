-- +goose Up
-- Connector delivery evidence: one row per delivery operation (the first send
-- or one retry execution) to one destination. A row is written in_flight
-- before the connector is called and completed after, so a crash between the
-- two leaves a visible in-flight row instead of a silent loss. Only
-- public-safe fields are kept: destination host, status, class, timings and
-- a redacted request summary; never a URL path, query, token or body.
CREATE TABLE deliveries (
    id                 TEXT PRIMARY KEY,
    subject_kind       TEXT NOT NULL,
    subject_id         TEXT NOT NULL,
    subject_key        TEXT NOT NULL,
    connector          TEXT NOT NULL,
    connector_kind     TEXT NOT NULL,
    host               TEXT NOT NULL,
    method             TEXT NOT NULL,
    state              TEXT NOT NULL,
    success            BOOLEAN NOT NULL,
    status_code        INTEGER NOT NULL,
    error_class        TEXT NOT NULL,
    attempt_count      INTEGER NOT NULL,
    attempts           TEXT NOT NULL,
    error              TEXT NOT NULL,
    response_excerpt   TEXT NOT NULL,
    request_summary    TEXT NOT NULL,
    idempotency_key    TEXT NOT NULL,
    origin             TEXT NOT NULL,
    retry_execution_id TEXT NOT NULL DEFAULT '',
    actor              TEXT NOT NULL,
    retry_after        {{.Timestamp}},
    started_at         {{.Timestamp}} NOT NULL,
    completed_at       {{.Timestamp}},
    created_at         {{.Timestamp}} NOT NULL
);
CREATE INDEX deliveries_subject ON deliveries (subject_kind, subject_id, connector, created_at);
CREATE INDEX deliveries_key ON deliveries (subject_kind, subject_key, connector, success, completed_at);
CREATE INDEX deliveries_connector ON deliveries (connector, created_at);
CREATE INDEX deliveries_outcome ON deliveries (subject_kind, state, success, created_at);
CREATE INDEX deliveries_created_at ON deliveries (created_at);

-- +goose Down
DROP TABLE deliveries;
