-- The snapshot inbox (store.Upload): every file received, by the API or
-- dropped into schedule.inbox, kept whole until a scan consumes it. A scan
-- reads only the pending uploads, oldest first, and marks them consumed by
-- its batch in the transaction that saves the batch, so each upload is read
-- once and any replica sees the same inbox.
CREATE TABLE inbox (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    uploaded_at {{.Time}} NOT NULL,
    size        BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    content     {{.Blob}} NOT NULL,
    state       TEXT NOT NULL,
    batch_id    TEXT NOT NULL DEFAULT '',
    scan_id     TEXT NOT NULL DEFAULT '',
    consumed_at {{.Time}}
);

-- The pending uploads in upload order (store.ScanUploads).
CREATE INDEX inbox_state ON inbox (state, uploaded_at, id);
-- What a scan already consumed, for its retried ingest.
CREATE INDEX inbox_scan ON inbox (scan_id);
