-- The decision record. Written once for both dialects: {{.ID}}, {{.Time}},
-- {{.JSON}} and {{.Float}} are filled in with each dialect's column types.
-- Dates (weeks, cycles) are ISO YYYY-MM-DD text, which sorts as it should.

-- One ingest of snapshot files. Snapshots are immutable once stored.
CREATE TABLE batches (
    batch_id     TEXT PRIMARY KEY,
    source_files {{.JSON}} NOT NULL,
    ingested_at  {{.Time}} NOT NULL,
    row_count    INTEGER NOT NULL
);

CREATE TABLE snapshots (
    batch_id    TEXT NOT NULL REFERENCES batches (batch_id),
    seq         INTEGER NOT NULL,
    account_id  TEXT NOT NULL,
    week        TEXT NOT NULL,
    source_file TEXT NOT NULL,
    source_row  INTEGER NOT NULL,
    data        {{.JSON}} NOT NULL,
    PRIMARY KEY (batch_id, seq)
);

CREATE INDEX snapshots_account_week ON snapshots (account_id, week);

-- One assessment per account, week and scoring configuration.
CREATE TABLE scores (
    id            {{.ID}},
    account_id    TEXT NOT NULL,
    as_of         TEXT NOT NULL,
    config_hash   TEXT NOT NULL,
    model_version TEXT NOT NULL,
    batch_id      TEXT NOT NULL,
    tier          TEXT NOT NULL,
    score         INTEGER NOT NULL,
    arr           {{.Float}} NOT NULL,
    owner         TEXT NOT NULL,
    scored_at     {{.Time}},
    data          {{.JSON}} NOT NULL,
    UNIQUE (account_id, as_of, config_hash)
);

CREATE INDEX scores_as_of ON scores (as_of, account_id, id);

-- The weeks that have scores, so listing them never scans the scores.
CREATE TABLE score_weeks (
    week TEXT PRIMARY KEY
);

-- The latest state of each review's decision packet.
CREATE TABLE packets (
    review_id  TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    cycle      TEXT NOT NULL,
    owner      TEXT NOT NULL,
    state      TEXT NOT NULL,
    severity   TEXT NOT NULL,
    created_at {{.Time}} NOT NULL,
    updated_at {{.Time}} NOT NULL,
    data       {{.JSON}} NOT NULL
);

CREATE INDEX packets_account_cycle ON packets (account_id, cycle);
CREATE INDEX packets_cycle ON packets (cycle);
CREATE INDEX packets_owner_state ON packets (owner, state);

-- Append-only measurement events; event_key makes each write idempotent.
CREATE TABLE events (
    id          {{.ID}},
    event_key   TEXT NOT NULL UNIQUE,
    review_id   TEXT NOT NULL,
    account_id  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    occurred_at {{.Time}} NOT NULL,
    detail      TEXT NOT NULL
);

CREATE INDEX events_review ON events (review_id, id);
CREATE INDEX events_account ON events (account_id, id);
CREATE INDEX events_kind ON events (kind, id);
