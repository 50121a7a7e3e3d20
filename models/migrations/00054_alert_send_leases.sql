-- +goose Up
-- One row per health alert fingerprint whose send is under way. A send
-- takes the lease before it decides duplicate suppression and frees it once
-- its deliveries are recorded, so two sends of one alert run one after the
-- other and the second sees the first's successes. A lease left by a
-- stopped process expires.
CREATE TABLE alert_send_leases (
    fingerprint TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  {{.Timestamp}} NOT NULL
);

-- +goose Down
DROP TABLE alert_send_leases;
