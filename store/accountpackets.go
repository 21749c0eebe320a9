package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/churnwatch/churnwatch/review"
)

// AccountPackets returns the packets of the given accounts, by account,
// each account's ordered by cycle, then review ID (as Packets orders them).
// A scan reads a whole chunk's review history this way in a few queries
// rather than one per account. No accounts means none, never all.
func (s *sqlStore) AccountPackets(ctx context.Context, accountIDs []string) (map[string][]review.Packet, error) {
	out := map[string][]review.Packet{}
	ids := slices.Compact(slices.Sorted(slices.Values(accountIDs)))
	for start := 0; start < len(ids); start += historyChunk {
		var w where
		w.in("account_id", ids[start:min(start+historyChunk, len(ids))])
		if err := s.accountPackets(ctx, w, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *sqlStore) accountPackets(ctx context.Context, w where, out map[string][]review.Packet) error {
	rows, err := s.db.QueryContext(ctx, `SELECT data FROM packets`+w.String()+` ORDER BY account_id, cycle, review_id`, w.args...)
	if err != nil {
		return fmt.Errorf("packets of accounts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var blob []byte
		if err := rows.Scan(&blob); err != nil {
			return fmt.Errorf("packets of accounts: %w", err)
		}
		var p review.Packet
		if err := json.Unmarshal(blob, &p); err != nil {
			return fmt.Errorf("packets of accounts: stored data: %w", err)
		}
		out[p.AccountID] = append(out[p.AccountID], p)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("packets of accounts: %w", err)
	}
	return nil
}
