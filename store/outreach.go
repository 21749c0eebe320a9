package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// OutreachState is where the approved outreach of a review stands.
type OutreachState string

const (
	// OutreachSending is claimed: the SMTP exchange started, and the
	// message itself has not been handed to the server. A claim a crash
	// left here can be taken again: the server has nothing to deliver.
	OutreachSending OutreachState = "sending"
	// OutreachHandingOver is the moment the message itself goes to the
	// server. A claim a crash left here is never sent again: the customer
	// may have the email, and the CSM is told to check.
	OutreachHandingOver OutreachState = "handing_over"
	// OutreachSent is handed to the mail server.
	OutreachSent OutreachState = "sent"
)

// Outreach records the approved outreach email Churnwatch sends to a
// review's customer contact: one per review, ever.
type Outreach struct {
	ReviewID  string
	To        string // the recipient as the CSM gave it
	MessageID string
	State     OutreachState
	ClaimedAt time.Time
	SentAt    time.Time // zero until sent
}

// OutreachRecord keeps the approved outreach sends, so that a retried or
// restarted send writes to the customer at most once.
type OutreachRecord interface {
	// ClaimOutreach records o as sending unless the review already has a
	// record; then it writes nothing and returns that record with claimed
	// false. A record still sending (never handed over) and claimed before
	// staleBefore belongs to an attempt that is gone: it is taken over.
	ClaimOutreach(ctx context.Context, o Outreach, staleBefore time.Time) (rec Outreach, claimed bool, err error)
	// MarkOutreachHandingOver records that the message itself is about to
	// go to the server.
	MarkOutreachHandingOver(ctx context.Context, reviewID string) error
	// MarkOutreachSent moves a review's claim to sent; ErrNotFound when
	// the review has no record.
	MarkOutreachSent(ctx context.Context, reviewID string, at time.Time) error
	// ReleaseOutreach removes a claim that is still sending, for a send
	// the server is known not to have taken; a sent record stays.
	ReleaseOutreach(ctx context.Context, reviewID string) error
}

func (s *sqlStore) ClaimOutreach(ctx context.Context, o Outreach, staleBefore time.Time) (Outreach, bool, error) {
	if o.ReviewID == "" {
		return o, false, errors.New("claim outreach: empty review ID")
	}
	defer s.lockWrites()()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return o, false, fmt.Errorf("claim outreach of %s: %w", o.ReviewID, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO outreach_sends (review_id, recipient, message_id, state, claimed_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (review_id) DO NOTHING`,
		o.ReviewID, o.To, o.MessageID, string(OutreachSending), s.d.timeArg(o.ClaimedAt))
	if err != nil {
		return o, false, fmt.Errorf("claim outreach of %s: %w", o.ReviewID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return o, false, fmt.Errorf("claim outreach of %s: %w", o.ReviewID, err)
	}
	if n == 0 && !staleBefore.IsZero() {
		res, err = tx.ExecContext(ctx, `UPDATE outreach_sends SET recipient = $1, message_id = $2, claimed_at = $3
			WHERE review_id = $4 AND state = $5 AND claimed_at < $6`,
			o.To, o.MessageID, s.d.timeArg(o.ClaimedAt), o.ReviewID, string(OutreachSending), s.d.timeArg(staleBefore))
		if err != nil {
			return o, false, fmt.Errorf("take over the outreach claim of %s: %w", o.ReviewID, err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return o, false, fmt.Errorf("take over the outreach claim of %s: %w", o.ReviewID, err)
		}
	}
	rec, err := readOutreach(ctx, tx, o.ReviewID)
	if err != nil {
		return o, false, err
	}
	if err := tx.Commit(); err != nil {
		return o, false, fmt.Errorf("claim outreach of %s: %w", o.ReviewID, err)
	}
	return rec, n == 1, nil
}

func readOutreach(ctx context.Context, tx *sql.Tx, reviewID string) (Outreach, error) {
	o := Outreach{ReviewID: reviewID}
	var state string
	err := tx.QueryRowContext(ctx, `SELECT recipient, message_id, state, claimed_at, sent_at FROM outreach_sends WHERE review_id = $1`, reviewID).
		Scan(&o.To, &o.MessageID, &state, dbTime{&o.ClaimedAt}, dbTime{&o.SentAt})
	if err != nil {
		return o, fmt.Errorf("read outreach of %s: %w", reviewID, err)
	}
	o.State = OutreachState(state)
	return o, nil
}

func (s *sqlStore) MarkOutreachSent(ctx context.Context, reviewID string, at time.Time) error {
	defer s.lockWrites()()
	res, err := s.db.ExecContext(ctx, `UPDATE outreach_sends SET state = $1, sent_at = $2 WHERE review_id = $3`,
		string(OutreachSent), s.d.timeArg(at), reviewID)
	if err != nil {
		return fmt.Errorf("mark outreach of %s sent: %w", reviewID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("mark outreach of %s sent: %w", reviewID, err)
	} else if n == 0 {
		return fmt.Errorf("mark outreach of %s sent: %w", reviewID, ErrNotFound)
	}
	return nil
}

func (s *sqlStore) MarkOutreachHandingOver(ctx context.Context, reviewID string) error {
	defer s.lockWrites()()
	res, err := s.db.ExecContext(ctx, `UPDATE outreach_sends SET state = $1 WHERE review_id = $2 AND state = $3`,
		string(OutreachHandingOver), reviewID, string(OutreachSending))
	if err != nil {
		return fmt.Errorf("mark outreach of %s handing over: %w", reviewID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("mark outreach of %s handing over: %w", reviewID, err)
	} else if n == 0 {
		// Another attempt took the claim over: this one must not send.
		return fmt.Errorf("mark outreach of %s handing over: the claim is no longer this attempt's", reviewID)
	}
	return nil
}

func (s *sqlStore) ReleaseOutreach(ctx context.Context, reviewID string) error {
	defer s.lockWrites()()
	// Released only for a send the server is known not to have taken whole,
	// so a claim handing over may go too.
	if _, err := s.db.ExecContext(ctx, `DELETE FROM outreach_sends WHERE review_id = $1 AND state IN ($2, $3)`,
		reviewID, string(OutreachSending), string(OutreachHandingOver)); err != nil {
		return fmt.Errorf("release outreach of %s: %w", reviewID, err)
	}
	return nil
}
