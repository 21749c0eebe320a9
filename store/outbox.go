package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/churnwatch/churnwatch/review"
)

// NoticeState is where a notice in the outbox stands.
type NoticeState string

const (
	// NoticePending waits for its (next) delivery attempt.
	NoticePending NoticeState = "pending"
	// NoticeSent reached every channel it was meant for.
	NoticeSent NoticeState = "sent"
	// NoticeFailed will not be tried again: a channel refused it, or its
	// attempts ran out. It stays in the outbox, with its last error.
	NoticeFailed NoticeState = "failed"
)

// What became of a notice on one channel (OutboxNotice.Channels).
const (
	// ChannelDone: delivered, or the channel has no address for the
	// recipient (no Slack user, no email in the user record).
	ChannelDone = "done"
	// ChannelRefused: refused with an answer no retry can change.
	ChannelRefused = "refused"
)

// OutboxNotice is one notice to a person inside the team, in the outbox
// the worker's drainer delivers from.
type OutboxNotice struct {
	// Key is the notice's idempotency key (review run and activity): the
	// outbox holds a key once, and the webhook and the email carry it.
	Key string
	review.Notice
	Created     time.Time
	Attempts    int
	NextAttempt time.Time
	State       NoticeState
	LastError   string
	// Channels says per channel (webhook, slack, email) what became of the
	// notice there: ChannelDone or ChannelRefused. A channel not listed is
	// still to be tried.
	Channels map[string]string
}

// NoticeFilter selects outbox notices. Zero fields match everything.
type NoticeFilter struct {
	ReviewID string
	State    NoticeState
}

// Outbox is the durable outbox of notices. A notice is appended once and
// delivered by whoever holds its lease: two drainers never work on one
// notice at once.
type Outbox interface {
	// AddNotice appends a pending notice, due at once. A key already in the
	// outbox writes nothing and inserted is false.
	AddNotice(ctx context.Context, n OutboxNotice) (inserted bool, err error)
	// ClaimNotices leases up to limit pending notices due at now to owner:
	// their next attempt moves to now+lease, so nobody else claims them
	// while owner delivers, and a drainer that dies mid-delivery leaves
	// them due again once the lease runs out.
	ClaimNotices(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]OutboxNotice, error)
	// SettleNotice records the outcome of owner's attempt: n's attempts,
	// next attempt, state, last error and channels. It writes nothing and
	// returns false when owner no longer holds the lease.
	SettleNotice(ctx context.Context, owner string, n OutboxNotice) (bool, error)
	// Notices returns the matching notices, oldest first.
	Notices(ctx context.Context, f NoticeFilter) ([]OutboxNotice, error)
}

const noticeCols = `notice_key, review_id, recipient, kind, message, created_at, attempts, next_attempt, state, last_error, channels`

func scanNotice(r rowScanner) (OutboxNotice, error) {
	var n OutboxNotice
	var kind, state, channels string
	if err := r.Scan(&n.Key, &n.ReviewID, &n.To, &kind, &n.Message, dbTime{&n.Created}, &n.Attempts, dbTime{&n.NextAttempt},
		&state, &n.LastError, &channels); err != nil {
		return n, err
	}
	n.Kind, n.State = review.EventKind(kind), NoticeState(state)
	if err := json.Unmarshal([]byte(channels), &n.Channels); err != nil {
		return n, fmt.Errorf("notice %s: channels %q: %w", n.Key, channels, err)
	}
	return n, nil
}

func (s *sqlStore) AddNotice(ctx context.Context, n OutboxNotice) (bool, error) {
	if n.Key == "" {
		return false, fmt.Errorf("add notice: empty key")
	}
	if n.Created.IsZero() {
		n.Created = time.Now()
	}
	at := s.d.timeArg(n.Created)
	defer s.lockWrites()()
	res, err := s.db.ExecContext(ctx, `INSERT INTO notices
			(notice_key, review_id, recipient, kind, message, created_at, next_attempt, state)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (notice_key) DO NOTHING`,
		n.Key, n.ReviewID, n.To, string(n.Kind), n.Message, at, at, string(NoticePending))
	if err != nil {
		return false, fmt.Errorf("add notice %s: %w", n.Key, err)
	}
	added, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("add notice %s: %w", n.Key, err)
	}
	return added > 0, nil
}

func (s *sqlStore) ClaimNotices(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]OutboxNotice, error) {
	if owner == "" || limit <= 0 {
		return nil, fmt.Errorf("claim notices: want an owner and a positive limit")
	}
	// PostgreSQL: claimers skip each other's locked rows instead of
	// queueing behind them. Either way the outer WHERE repeats the
	// subquery's test, so a row another claimer moved on in the meantime is
	// left alone. SQLite has one writer at a time and needs neither.
	lock := ""
	if s.d.name == "postgres" {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	q := `UPDATE notices SET lease_owner = $1, next_attempt = $2
		WHERE state = 'pending' AND next_attempt <= $3 AND notice_key IN (
			SELECT notice_key FROM notices WHERE state = 'pending' AND next_attempt <= $3
			ORDER BY next_attempt, notice_key LIMIT $4` + lock + `)
		RETURNING ` + noticeCols
	defer s.lockWrites()()
	rows, err := s.db.QueryContext(ctx, q, owner, s.d.timeArg(now.Add(lease)), s.d.timeArg(now), limit)
	if err != nil {
		return nil, fmt.Errorf("claim notices: %w", err)
	}
	out, err := scanNotices(rows)
	if err != nil {
		return nil, fmt.Errorf("claim notices: %w", err)
	}
	return out, nil
}

func (s *sqlStore) SettleNotice(ctx context.Context, owner string, n OutboxNotice) (bool, error) {
	channels, err := json.Marshal(nonNilMap(n.Channels))
	if err != nil {
		return false, fmt.Errorf("settle notice %s: %w", n.Key, err)
	}
	defer s.lockWrites()()
	res, err := s.db.ExecContext(ctx, `UPDATE notices
		SET attempts = $1, next_attempt = $2, state = $3, last_error = $4, channels = $5, lease_owner = ''
		WHERE notice_key = $6 AND lease_owner = $7 AND state = 'pending'`,
		n.Attempts, s.d.timeArg(n.NextAttempt), string(n.State), n.LastError, string(channels), n.Key, owner)
	if err != nil {
		return false, fmt.Errorf("settle notice %s: %w", n.Key, err)
	}
	done, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("settle notice %s: %w", n.Key, err)
	}
	return done > 0, nil
}

func (s *sqlStore) Notices(ctx context.Context, f NoticeFilter) ([]OutboxNotice, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.ReviewID != "" {
		add("review_id = $%d", f.ReviewID)
	}
	if f.State != "" {
		add("state = $%d", string(f.State))
	}
	q := `SELECT ` + noticeCols + ` FROM notices`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.db.QueryContext(ctx, q+" ORDER BY created_at, notice_key", args...)
	if err != nil {
		return nil, fmt.Errorf("notices: %w", err)
	}
	out, err := scanNotices(rows)
	if err != nil {
		return nil, fmt.Errorf("notices: %w", err)
	}
	return out, nil
}

// scanNotices reads and closes rows of noticeCols.
func scanNotices(rows *sql.Rows) ([]OutboxNotice, error) {
	defer rows.Close()
	var out []OutboxNotice
	for rows.Next() {
		n, err := scanNotice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
