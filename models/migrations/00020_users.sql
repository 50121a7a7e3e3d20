-- +goose Up
-- Users who sign in to the console. Usernames are stored in lower case.
-- password_hash is an argon2id hash in the PHC string format, or empty for a
-- user who signs in only through single sign-on (oidc_subject is then the
-- issuer and subject of the identity provider).
CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    username        TEXT NOT NULL,
    role            TEXT NOT NULL,
    password_hash   TEXT NOT NULL DEFAULT '',
    oidc_subject    TEXT NOT NULL DEFAULT '',
    disabled        BOOLEAN NOT NULL DEFAULT FALSE,
    created_by      TEXT NOT NULL,
    last_sign_in_at {{.Timestamp}},
    created_at      {{.Timestamp}} NOT NULL,
    updated_at      {{.Timestamp}} NOT NULL
);
CREATE UNIQUE INDEX users_username ON users (username);
CREATE UNIQUE INDEX users_oidc_subject ON users (oidc_subject) WHERE oidc_subject <> '';

-- Personal API tokens. Only the SHA-256 of a token is kept; prefix is its
-- first characters, shown so a user can tell tokens apart.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    token_hash   TEXT NOT NULL,
    last_used_at {{.Timestamp}},
    revoked_at   {{.Timestamp}},
    created_at   {{.Timestamp}} NOT NULL
);
CREATE UNIQUE INDEX api_tokens_token_hash ON api_tokens (token_hash);
CREATE INDEX api_tokens_user ON api_tokens (user_id, created_at);

-- Browser sessions. id is the SHA-256 of the secret in the session cookie,
-- so the table alone cannot be used to take over a session.
CREATE TABLE user_sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    method       TEXT NOT NULL,
    created_at   {{.Timestamp}} NOT NULL,
    last_seen_at {{.Timestamp}} NOT NULL,
    expires_at   {{.Timestamp}} NOT NULL
);
CREATE INDEX user_sessions_user ON user_sessions (user_id);
CREATE INDEX user_sessions_expires_at ON user_sessions (expires_at);

-- +goose Down
DROP TABLE user_sessions;
DROP TABLE api_tokens;
DROP TABLE users;
