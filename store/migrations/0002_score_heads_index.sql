-- A covering index for a week's headline scores (store.ScoreRows): the
-- leadership summary counts tiers and ARR from the index alone, without
-- reading each assessment's evidence.
DROP INDEX scores_as_of;
CREATE INDEX scores_week_heads ON scores (as_of, account_id, id, tier, score, arr, owner);
