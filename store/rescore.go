package store

import (
	"context"
	"database/sql"

	"github.com/churnwatch/churnwatch/risk"
)

// supersedeScores deletes, in tx, the stored scores that as (scored from
// batchID) replace: the same account, week and configuration saved from a
// batch ingested before batchID, or from no stored batch (scores saved
// before scans named theirs). The INSERT that follows then writes the new
// rows, where its ON CONFLICT DO NOTHING would keep the old ones.
//
// That is what makes a corrected week show: a re-upload of week W is a new
// batch, History prefers its rows, and the rescan's scores of W take the
// place of those scored from the old rows. A retry of the same batch, or a
// rescan from an older or unknown batch, deletes nothing and so still
// writes nothing. The replacement is a new row with a new, higher id, never
// an update in place, so that id order stays save order (ScoresAsOf and
// LatestScores keep the last saved configuration) and the week's
// ScoreStamp moves.
func (s *sqlStore) supersedeScores(ctx context.Context, tx *sql.Tx, batchID string, as []risk.Assessment) error {
	if batchID == "" {
		return nil
	}
	var stored int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM batches WHERE batch_id = $1`, batchID).Scan(&stored); err != nil {
		return err
	}
	if stored == 0 {
		return nil // an unknown batch is never newer than anything
	}
	type weekConfig struct{ week, hash string }
	accounts := map[weekConfig][]string{}
	var order []weekConfig
	for i := range as {
		k := weekConfig{as[i].AsOf, as[i].ConfigHash}
		if _, ok := accounts[k]; !ok {
			order = append(order, k)
		}
		accounts[k] = append(accounts[k], as[i].AccountID)
	}
	for _, k := range order {
		ids := accounts[k]
		for start := 0; start < len(ids); start += historyChunk {
			w := where{args: []any{k.week, k.hash, batchID}}
			w.conds = []string{"as_of = $1", "config_hash = $2", "batch_id <> $3"}
			w.in("account_id", ids[start:min(start+historyChunk, len(ids))])
			_, err := tx.ExecContext(ctx, `DELETE FROM scores`+w.String()+`
				AND NOT EXISTS (SELECT 1 FROM batches o JOIN batches n ON n.batch_id = $3
					WHERE o.batch_id = scores.batch_id AND o.ingested_at >= n.ingested_at)`, w.args...)
			if err != nil {
				return err
			}
		}
	}
	return nil
}
