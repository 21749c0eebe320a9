-- The outbox of notices to the team (store.OutboxNotice). The Notify
-- activity only appends a row, keyed by the idempotency key it has always
-- sent, and returns; the worker's drainer claims due rows with a lease
-- (lease_owner, next_attempt pushed past the delivery), delivers them to
-- the webhook, Slack and email, and records per channel what went out
-- (channels, JSON) so a retry never posts twice to a channel that took it.
CREATE TABLE notices (
    notice_key   TEXT PRIMARY KEY,
    review_id    TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    kind         TEXT NOT NULL,
    message      TEXT NOT NULL,
    created_at   {{.Time}} NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt {{.Time}} NOT NULL,
    state        TEXT NOT NULL DEFAULT 'pending',
    last_error   TEXT NOT NULL DEFAULT '',
    channels     TEXT NOT NULL DEFAULT '{}',
    lease_owner  TEXT NOT NULL DEFAULT ''
);

-- The drainer's claim: the due pending notices, oldest due first.
CREATE INDEX notices_due ON notices (state, next_attempt);
CREATE INDEX notices_review ON notices (review_id);

-- Rendered reports (store.Report): the leadership summary as JSON, Markdown
-- and CSV, the packet audit and the risk register, one row per part. The
-- summary workflow carries only the report's ID; the CLI and the API read
-- the parts here. kept marks the weekly schedule's copies; on-demand
-- reports are pruned after a day.
CREATE TABLE reports (
    id         TEXT NOT NULL,
    kind       TEXT NOT NULL,
    week       TEXT NOT NULL,
    created_at {{.Time}} NOT NULL,
    kept       BOOLEAN NOT NULL DEFAULT FALSE,
    content    {{.Blob}} NOT NULL,
    PRIMARY KEY (id, kind)
);

CREATE INDEX reports_created ON reports (kept, created_at);
