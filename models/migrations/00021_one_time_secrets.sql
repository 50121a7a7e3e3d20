-- +goose Up
-- Secrets a page shows once after a redirect, such as a new API token or a
-- generated password. The session cookie carries only a random reference:
-- id is the SHA-256 of it, and sealed is the secret encrypted with a key
-- derived from it, so the table alone reveals no secret. A row is deleted
-- when its page shows it. A row past expires_at is deleted when any secret
-- is next stored or taken.
CREATE TABLE one_time_secrets (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    sealed     TEXT NOT NULL,
    created_at {{.Timestamp}} NOT NULL,
    expires_at {{.Timestamp}} NOT NULL
);
CREATE INDEX one_time_secrets_expires_at ON one_time_secrets (expires_at);

-- +goose Down
DROP TABLE one_time_secrets;
