-- +goose Up
-- Retry health alert plans: one row per "Send Retry Health Alert", written in
-- the same transaction as the in-flight deliveries of its selected
-- destinations, so no plan exists without its delivery evidence.
CREATE TABLE alert_plans (
    id                         TEXT PRIMARY KEY,
    health_id                  TEXT NOT NULL,
    occurrence_id              TEXT NOT NULL,
    fingerprint                TEXT NOT NULL,
    alert_level                TEXT NOT NULL,
    requested_providers        TEXT NOT NULL,
    suppression_window_minutes INTEGER NOT NULL,
    max_alerts                 INTEGER NOT NULL,
    force                      BOOLEAN NOT NULL,
    actor                      TEXT NOT NULL,
    created_at                 {{.Timestamp}} NOT NULL
);
CREATE INDEX alert_plans_health ON alert_plans (health_id, created_at);
CREATE INDEX alert_plans_created_at ON alert_plans (created_at);

-- One row per eligible destination of a plan: selected (sent) or suppressed
-- as a duplicate, with the reason and the delivery that suppressed it.
CREATE TABLE alert_plan_destinations (
    plan_id                  TEXT NOT NULL,
    provider                 TEXT NOT NULL,
    health_id                TEXT NOT NULL,
    occurrence_id            TEXT NOT NULL,
    fingerprint              TEXT NOT NULL,
    decision                 TEXT NOT NULL,
    reason                   TEXT NOT NULL,
    suppressed_by_delivery   TEXT NOT NULL,
    last_delivery_at         {{.Timestamp}},
    acknowledgement_required BOOLEAN NOT NULL,
    created_at               {{.Timestamp}} NOT NULL,
    PRIMARY KEY (plan_id, provider)
);
CREATE INDEX alert_plan_destinations_provider ON alert_plan_destinations (provider, decision, created_at);
CREATE INDEX alert_plan_destinations_health ON alert_plan_destinations (health_id, provider);
CREATE INDEX alert_plan_destinations_occurrence ON alert_plan_destinations (occurrence_id, provider, acknowledgement_required, created_at);

-- Append-only history of acknowledgement actions. sequence numbers the
-- actions of one (occurrence, destination) from 1; the unique index makes two
-- concurrent writers unable to record the same step twice.
CREATE TABLE alert_acknowledgements (
    id                    TEXT PRIMARY KEY,
    health_id             TEXT NOT NULL,
    occurrence_id         TEXT NOT NULL,
    provider              TEXT NOT NULL,
    plan_id               TEXT NOT NULL,
    sequence              INTEGER NOT NULL,
    acknowledgement_state TEXT NOT NULL,
    repeat                BOOLEAN NOT NULL,
    external_ref          TEXT NOT NULL,
    notes                 TEXT NOT NULL,
    actor                 TEXT NOT NULL,
    created_at            {{.Timestamp}} NOT NULL
);
CREATE UNIQUE INDEX alert_acknowledgements_step ON alert_acknowledgements (occurrence_id, provider, sequence);
CREATE INDEX alert_acknowledgements_health ON alert_acknowledgements (health_id, provider, created_at);
CREATE INDEX alert_acknowledgements_state ON alert_acknowledgements (acknowledgement_state, created_at);
CREATE INDEX alert_acknowledgements_created_at ON alert_acknowledgements (created_at);

-- Current acknowledgement state per (occurrence, destination): the latest
-- action that changed it. Updated in the transaction that appends the action.
CREATE TABLE alert_acknowledgement_states (
    occurrence_id         TEXT NOT NULL,
    provider              TEXT NOT NULL,
    acknowledgement_state TEXT NOT NULL,
    sequence              INTEGER NOT NULL,
    acknowledgement_id    TEXT NOT NULL,
    health_id             TEXT NOT NULL,
    external_ref          TEXT NOT NULL,
    actor                 TEXT NOT NULL,
    updated_at            {{.Timestamp}} NOT NULL,
    PRIMARY KEY (occurrence_id, provider)
);
CREATE INDEX alert_acknowledgement_states_state ON alert_acknowledgement_states (acknowledgement_state);

-- +goose Down
DROP TABLE alert_acknowledgement_states;
DROP TABLE alert_acknowledgements;
DROP TABLE alert_plan_destinations;
DROP TABLE alert_plans;
