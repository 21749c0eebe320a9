-- The accounts that have scores, so "each account's latest score before a
-- week" is one index probe per account instead of a sort of the whole
-- history (store.LatestScores).
CREATE TABLE score_accounts (
    account_id TEXT PRIMARY KEY
);

INSERT INTO score_accounts (account_id) SELECT DISTINCT account_id FROM scores;
