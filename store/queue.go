package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
)

// QueueRow is the headline of one review as an inbox lists it.
type QueueRow struct {
	ReviewID    string       `json:"review_id"`
	AccountID   string       `json:"account_id"`
	AccountName string       `json:"account_name"`
	Owner       string       `json:"owner"`
	Cycle       string       `json:"cycle"`
	State       review.State `json:"state"`
	Tier        risk.Tier    `json:"tier"`
	Score       int          `json:"score"`
	ARR         float64      `json:"arr"`
	Urgency     float64      `json:"urgency"`
	RenewalDate string       `json:"renewal_date,omitempty"`
	// DueAt is when the decision is due: the review's start plus its tier's
	// SLA. Zero when the review has no assessment yet.
	DueAt time.Time `json:"due_at"`
}

// QueueFilter selects the reviews of an inbox. Zero fields match everything.
type QueueFilter struct {
	Owners []string
	States []review.State
	Tiers  []risk.Tier
	// MinARR (inclusive) and MaxARR (exclusive, 0 = none) select a segment.
	MinARR, MaxARR float64
	// DueBefore keeps the reviews due before this time (the overdue ones).
	DueBefore time.Time
	Limit     int // 0 = no limit
	Offset    int
}

// queueColumns fills the inbox columns of a packet: the account's name,
// score, ARR, urgency (the priority value: risk weighed with ARR, renewal
// and strategic weight), renewal and when the decision is due.
func queueColumns(p review.Packet, d *dialect) []any {
	a := p.Assessment
	var due any
	if a.SLAHours > 0 && !p.CreatedAt.IsZero() {
		due = d.timeArg(p.CreatedAt.Add(time.Duration(a.SLAHours) * time.Hour))
	}
	return []any{p.AccountName, a.Score, a.ARR, a.Urgency, a.RenewalDate, due}
}

func (w *where) queue(f QueueFilter, d *dialect) {
	w.in("owner", f.Owners)
	states := make([]string, len(f.States))
	for i, s := range f.States {
		states[i] = string(s)
	}
	w.in("state", states)
	tiers := make([]string, len(f.Tiers))
	for i, t := range f.Tiers {
		tiers[i] = string(t)
	}
	w.in("severity", tiers)
	if f.MinARR > 0 {
		w.args = append(w.args, f.MinARR)
		w.conds = append(w.conds, "arr >= $"+strconv.Itoa(len(w.args)))
	}
	if f.MaxARR > 0 {
		w.args = append(w.args, f.MaxARR)
		w.conds = append(w.conds, "arr < $"+strconv.Itoa(len(w.args)))
	}
	if !f.DueBefore.IsZero() {
		w.args = append(w.args, d.timeArg(f.DueBefore))
		w.conds = append(w.conds, "due_at < $"+strconv.Itoa(len(w.args)))
	}
}

// Queue returns one page of the matching reviews, most urgent first, and
// how many match in all.
func (s *sqlStore) Queue(ctx context.Context, f QueueFilter) ([]QueueRow, int, error) {
	var w where
	w.queue(f, s.d)
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM packets`+w.String(), w.args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("queue: %w", err)
	}
	q := `SELECT review_id, account_id, COALESCE(account_name, ''), owner, cycle, state, severity,
			COALESCE(score, 0), COALESCE(arr, 0), COALESCE(urgency, 0), COALESCE(renewal_date, ''), due_at
		FROM packets` + w.String() + ` ORDER BY urgency DESC, score DESC, review_id`
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d OFFSET %d", f.Limit, max(f.Offset, 0))
	}
	rows, err := s.db.QueryContext(ctx, q, w.args...)
	if err != nil {
		return nil, 0, fmt.Errorf("queue: %w", err)
	}
	defer rows.Close()
	out := []QueueRow{}
	for rows.Next() {
		var r QueueRow
		var state, tier string
		if err := rows.Scan(&r.ReviewID, &r.AccountID, &r.AccountName, &r.Owner, &r.Cycle, &state, &tier,
			&r.Score, &r.ARR, &r.Urgency, &r.RenewalDate, dbTime{&r.DueAt}); err != nil {
			return nil, 0, fmt.Errorf("queue: %w", err)
		}
		r.State, r.Tier = review.State(state), risk.Tier(tier)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("queue: %w", err)
	}
	return out, total, nil
}

// fillQueueColumns fills the inbox columns of packets saved before they
// existed, from each packet's JSON; a no-op once every packet has them.
func (s *sqlStore) fillQueueColumns(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT data FROM packets WHERE score IS NULL`)
	if err != nil {
		return fmt.Errorf("fill queue columns: %w", err)
	}
	var packets []review.Packet
	for rows.Next() {
		var blob []byte
		var p review.Packet
		if err := rows.Scan(&blob); err != nil {
			rows.Close()
			return fmt.Errorf("fill queue columns: %w", err)
		}
		if err := json.Unmarshal(blob, &p); err != nil {
			rows.Close()
			return fmt.Errorf("fill queue columns: packet data: %w", err)
		}
		packets = append(packets, p)
	}
	rows.Close()
	if len(packets) == 0 {
		return rows.Err()
	}
	defer s.lockWrites()()
	for _, p := range packets {
		args := append(queueColumns(p, s.d), p.ReviewID)
		if _, err := s.db.ExecContext(ctx, `UPDATE packets SET account_name = $1, score = $2, arr = $3, urgency = $4,
			renewal_date = $5, due_at = $6 WHERE review_id = $7`, args...); err != nil {
			return fmt.Errorf("fill queue columns of %s: %w", p.ReviewID, err)
		}
	}
	return nil
}

// ReviewCounts counts the reviews by state and tier in one pass over the
// packets' headline columns.
func (s *sqlStore) ReviewCounts(ctx context.Context) (map[review.State]map[risk.Tier]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT state, severity, COUNT(*) FROM packets GROUP BY state, severity`)
	if err != nil {
		return nil, fmt.Errorf("count reviews: %w", err)
	}
	defer rows.Close()
	out := map[review.State]map[risk.Tier]int{}
	for rows.Next() {
		var state, tier string
		var n int
		if err := rows.Scan(&state, &tier, &n); err != nil {
			return nil, fmt.Errorf("count reviews: %w", err)
		}
		if out[review.State(state)] == nil {
			out[review.State(state)] = map[risk.Tier]int{}
		}
		out[review.State(state)][risk.Tier(tier)] = n
	}
	return out, rows.Err()
}
