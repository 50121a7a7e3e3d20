-- +goose Up
-- One row per failed sign-in and rate limit that counts it, so the sign-in
-- limits hold across restarts and across servers that share the database.
-- limit_key is a hash of the username or client address the limit counts,
-- because text typed into the username field can be a password.
CREATE TABLE sign_in_failures (
    id        {{if .PostgreSQL}}BIGSERIAL{{else}}INTEGER{{end}} PRIMARY KEY,
    limit_key TEXT NOT NULL,
    failed_at {{.Timestamp}} NOT NULL
);
CREATE INDEX sign_in_failures_key ON sign_in_failures (limit_key, failed_at);
CREATE INDEX sign_in_failures_failed_at ON sign_in_failures (failed_at);

-- +goose Down
DROP TABLE sign_in_failures;
