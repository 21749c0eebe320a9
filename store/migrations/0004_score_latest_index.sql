-- Each account's newest score before a week, newest save first on a tie, is
-- the first entry of a backward scan of this index (store.LatestScores).
-- PostgreSQL otherwise reads every week of the account from the table.
CREATE INDEX scores_account_latest ON scores (account_id, as_of, id);
