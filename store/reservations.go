package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Reservation holds an account for its one open review. It is taken before
// the review's workflow starts, so two scans (of different weeks, say) can
// never both start a review of one account: the second finds it held.
type Reservation struct {
	AccountID string
	ReviewID  string
	Cycle     string
	// RunID is the run of the review's workflow, "" until it started (or
	// for a review open before reservations existed).
	RunID      string
	ReservedAt time.Time
}

// Reservations keeps the accounts' open-review reservations.
type Reservations interface {
	// ReserveAccount holds r.AccountID for r.ReviewID unless another review
	// holds it: then it writes nothing and returns that holder with
	// reserved false. Reserving again for the holding review (a retried
	// start) returns it with reserved true.
	ReserveAccount(ctx context.Context, r Reservation) (held Reservation, reserved bool, err error)
	// SetReservationRun records the run of the holding review's workflow;
	// nothing when reviewID does not hold the account.
	SetReservationRun(ctx context.Context, accountID, reviewID, runID string) error
	// ReleaseAccount frees the account when reviewID holds it; otherwise
	// (already released, held by a later review) it does nothing.
	ReleaseAccount(ctx context.Context, accountID, reviewID string) error
	// AccountReservations returns the reservations of the given accounts,
	// by account; the accounts not held are absent.
	AccountReservations(ctx context.Context, accountIDs []string) (map[string]Reservation, error)
}

func (s *sqlStore) ReserveAccount(ctx context.Context, r Reservation) (Reservation, bool, error) {
	if r.AccountID == "" || r.ReviewID == "" {
		return r, false, errors.New("reserve account: empty account or review ID")
	}
	defer s.lockWrites()()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return r, false, fmt.Errorf("reserve account %s: %w", r.AccountID, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO review_reservations (account_id, review_id, cycle, run_id, reserved_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id) DO NOTHING`,
		r.AccountID, r.ReviewID, r.Cycle, r.RunID, s.d.timeArg(r.ReservedAt)); err != nil {
		return r, false, fmt.Errorf("reserve account %s: %w", r.AccountID, err)
	}
	held := Reservation{AccountID: r.AccountID}
	err = tx.QueryRowContext(ctx, `SELECT review_id, cycle, run_id, reserved_at FROM review_reservations WHERE account_id = $1`, r.AccountID).
		Scan(&held.ReviewID, &held.Cycle, &held.RunID, dbTime{&held.ReservedAt})
	if err != nil {
		return r, false, fmt.Errorf("reserve account %s: %w", r.AccountID, err)
	}
	if err := tx.Commit(); err != nil {
		return r, false, fmt.Errorf("reserve account %s: %w", r.AccountID, err)
	}
	return held, held.ReviewID == r.ReviewID, nil
}

func (s *sqlStore) SetReservationRun(ctx context.Context, accountID, reviewID, runID string) error {
	defer s.lockWrites()()
	if _, err := s.db.ExecContext(ctx, `UPDATE review_reservations SET run_id = $1 WHERE account_id = $2 AND review_id = $3`,
		runID, accountID, reviewID); err != nil {
		return fmt.Errorf("record the run of review %s: %w", reviewID, err)
	}
	return nil
}

func (s *sqlStore) ReleaseAccount(ctx context.Context, accountID, reviewID string) error {
	defer s.lockWrites()()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM review_reservations WHERE account_id = $1 AND review_id = $2`,
		accountID, reviewID); err != nil {
		return fmt.Errorf("release account %s from review %s: %w", accountID, reviewID, err)
	}
	return nil
}

func (s *sqlStore) AccountReservations(ctx context.Context, accountIDs []string) (map[string]Reservation, error) {
	out := map[string]Reservation{}
	for start := 0; start < len(accountIDs); start += historyChunk {
		var w where
		w.in("account_id", accountIDs[start:min(start+historyChunk, len(accountIDs))])
		if err := s.reservations(ctx, w, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *sqlStore) reservations(ctx context.Context, w where, out map[string]Reservation) error {
	rows, err := s.db.QueryContext(ctx, `SELECT account_id, review_id, cycle, run_id, reserved_at FROM review_reservations`+w.String(), w.args...)
	if err != nil {
		return fmt.Errorf("account reservations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r Reservation
		if err := rows.Scan(&r.AccountID, &r.ReviewID, &r.Cycle, &r.RunID, dbTime{&r.ReservedAt}); err != nil {
			return fmt.Errorf("account reservations: %w", err)
		}
		out[r.AccountID] = r
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("account reservations: %w", err)
	}
	return nil
}
