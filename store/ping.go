package store

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"time"
)

// pingToken names the row Ping writes in the sessions table. It expired at
// the epoch, so no sign-in ever finds it and DeleteExpiredSessions sweeps
// it; real tokens are random and never match.
const pingToken = "churnwatch-ping"

// Ping writes a row and reads it back in one transaction (so workers that
// share the record never read each other's): the record is reachable and
// takes writes, where a read-only file, a full disk or a replica in
// recovery fails.
func (s *sqlStore) Ping(ctx context.Context) error {
	want := []byte(strconv.FormatInt(time.Now().UnixNano(), 10))
	defer s.lockWrites()()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("ping store: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3)
		ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`,
		pingToken, want, s.d.timeArg(time.Unix(0, 0))); err != nil {
		return fmt.Errorf("ping store: write: %w", err)
	}
	var got []byte
	if err := tx.QueryRowContext(ctx, `SELECT data FROM sessions WHERE token = $1`, pingToken).Scan(&got); err != nil {
		return fmt.Errorf("ping store: read back: %w", err)
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("ping store: read back %q, wrote %q", got, want)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("ping store: commit: %w", err)
	}
	return nil
}
