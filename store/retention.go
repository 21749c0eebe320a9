package store

import (
	"context"
	"fmt"
	"time"
)

// Retention drops what the record no longer needs once its purpose is
// served, so that the store grows with the book, not with every week's
// upload and every notice ever sent. What a person may still have to look
// at stays: pending and failed notices, every upload's record.
type Retention interface {
	// PruneUploads empties the content of the uploads consumed before
	// before, keeping their record (name, size, SHA-256, batch, scan): their
	// rows live on in the batch they were read into, and only a retried
	// ingest of the scan that consumed one reads it again, within hours.
	PruneUploads(ctx context.Context, before time.Time) (int, error)
	// PruneNotices deletes the notices delivered (sent) that were queued
	// before before.
	PruneNotices(ctx context.Context, before time.Time) (int, error)
}

func (s *sqlStore) PruneUploads(ctx context.Context, before time.Time) (int, error) {
	return s.prune(ctx, "prune uploads", `UPDATE inbox SET content = $1
		WHERE state = $2 AND consumed_at < $3 AND length(content) > 0`,
		[]byte{}, string(UploadConsumed), s.d.timeArg(before))
}

func (s *sqlStore) PruneNotices(ctx context.Context, before time.Time) (int, error) {
	return s.prune(ctx, "prune notices", `DELETE FROM notices WHERE state = $1 AND created_at < $2`,
		string(NoticeSent), s.d.timeArg(before))
}

func (s *sqlStore) prune(ctx context.Context, what, query string, args ...any) (int, error) {
	defer s.lockWrites()()
	res, err := s.db.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return int(n), nil
}
