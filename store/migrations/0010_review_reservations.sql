-- One open review per account (store.Reservation): StartReviews reserves
-- the account before it starts the review's workflow, and the row is
-- deleted when the review closes or is rejected, or when a scan finds its
-- workflow no longer running (terminated, failed, timed out). The primary
-- key is the rule: a second review of a held account cannot be reserved.
CREATE TABLE review_reservations (
    account_id  TEXT PRIMARY KEY,
    review_id   TEXT NOT NULL,
    cycle       TEXT NOT NULL,
    run_id      TEXT NOT NULL DEFAULT '',
    reserved_at {{.Time}} NOT NULL
);

-- Reviews open before this migration hold their accounts too; a scan
-- releases those whose workflow has ended. An account's review IDs sort
-- by cycle, so the earliest open review holds it.
INSERT INTO review_reservations (account_id, review_id, cycle, run_id, reserved_at)
SELECT account_id, MIN(review_id), MIN(cycle), '', MIN(created_at)
FROM packets
WHERE state NOT IN ('rejected', 'closed')
GROUP BY account_id;
