-- The approved outreach Churnwatch sends to a customer, one row per review:
-- claimed ('sending') before the SMTP exchange, 'sent' after it, so a
-- retried or restarted send never writes to the customer twice.
CREATE TABLE outreach_sends (
    review_id  TEXT PRIMARY KEY,
    recipient  TEXT NOT NULL,
    message_id TEXT NOT NULL,
    state      TEXT NOT NULL,
    claimed_at {{.Time}} NOT NULL,
    sent_at    {{.Time}}
);
