package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
)

// UploadState says whether a scan has read an upload yet.
type UploadState string

const (
	UploadPending  UploadState = "pending"  // waiting for the next inbox scan
	UploadConsumed UploadState = "consumed" // read into a batch; never read again
)

// Upload is one snapshot file in the inbox: pushed to POST /api/snapshots,
// or dropped into schedule.inbox and imported by the scan. The store keeps
// it whole, so every replica sees the same inbox and a retried ingest reads
// the same bytes.
type Upload struct {
	ID         string      `json:"id"`
	Name       string      `json:"name"` // the file name it came with; its extension gives the format
	UploadedAt time.Time   `json:"uploaded_at"`
	Size       int64       `json:"size"`
	SHA256     string      `json:"sha256"` // hex
	State      UploadState `json:"state"`
	BatchID    string      `json:"batch_id,omitempty"` // the batch that consumed it
	ScanID     string      `json:"scan_id,omitempty"`  // the scan that consumed it
	Content    []byte      `json:"-"`
}

// Inbox is the store's part for the snapshot inbox.
type Inbox interface {
	// AddUpload keeps an upload, pending; the store fills in its size and
	// SHA-256 from Content (and UploadedAt, when zero, with now). An ID
	// already stored writes nothing and inserted is false.
	AddUpload(ctx context.Context, u Upload) (inserted bool, err error)
	// Upload returns one upload without its content, or an error wrapping
	// ErrNotFound.
	Upload(ctx context.Context, id string) (Upload, error)
	// ScanUploads returns, with their content and oldest first (upload
	// time, then ID), the uploads the scan scanID consumed already, when
	// there are any (its ingest is being retried), or else every pending
	// upload.
	ScanUploads(ctx context.Context, scanID string) ([]Upload, error)
	// SaveInboxBatch saves a batch as SaveBatch does and, in the same
	// transaction, marks the uploads it was read from consumed by it and by
	// scanID. Saving it again is a no-op; an upload consumed by another
	// batch meanwhile fails it with ErrConsumed, and nothing is saved.
	SaveInboxBatch(ctx context.Context, b Batch, rows []snapshot.Snapshot, uploadIDs []string, scanID string) error
}

// ErrConsumed is returned when an upload a scan means to consume has been
// consumed by another batch meanwhile (another replica's scan).
var ErrConsumed = errors.New("already consumed by another batch")

// uploadColumns are the columns of an Upload without its content.
const uploadColumns = `id, name, uploaded_at, size, sha256, state, batch_id, scan_id`

func (s *sqlStore) AddUpload(ctx context.Context, u Upload) (bool, error) {
	if u.ID == "" || u.Name == "" {
		return false, fmt.Errorf("add upload: an upload needs an ID and a name")
	}
	if u.UploadedAt.IsZero() {
		u.UploadedAt = time.Now()
	}
	sum := sha256.Sum256(u.Content)
	defer s.lockWrites()()
	res, err := s.db.ExecContext(ctx, `INSERT INTO inbox (`+uploadColumns+`, content)
		VALUES ($1, $2, $3, $4, $5, $6, '', '', $7) ON CONFLICT (id) DO NOTHING`,
		u.ID, u.Name, s.d.timeArg(u.UploadedAt), len(u.Content), hex.EncodeToString(sum[:]), string(UploadPending), u.Content)
	if err != nil {
		return false, fmt.Errorf("add upload %s: %w", u.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("add upload %s: %w", u.ID, err)
	}
	return n == 1, nil
}

func (s *sqlStore) Upload(ctx context.Context, id string) (Upload, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+uploadColumns+` FROM inbox WHERE id = $1`, id)
	if err != nil {
		return Upload{}, fmt.Errorf("upload %s: %w", id, err)
	}
	us, err := scanUploads(rows, false)
	if err != nil {
		return Upload{}, fmt.Errorf("upload %s: %w", id, err)
	}
	if len(us) == 0 {
		return Upload{}, fmt.Errorf("upload %s: %w", id, ErrNotFound)
	}
	return us[0], nil
}

func (s *sqlStore) ScanUploads(ctx context.Context, scanID string) ([]Upload, error) {
	const q = `SELECT ` + uploadColumns + `, content FROM inbox WHERE `
	if scanID != "" {
		rows, err := s.db.QueryContext(ctx, q+`state = $1 AND scan_id = $2 ORDER BY uploaded_at, id`, string(UploadConsumed), scanID)
		if err != nil {
			return nil, fmt.Errorf("uploads of scan %s: %w", scanID, err)
		}
		us, err := scanUploads(rows, true)
		if err != nil || len(us) > 0 {
			return us, err
		}
	}
	rows, err := s.db.QueryContext(ctx, q+`state = $1 ORDER BY uploaded_at, id`, string(UploadPending))
	if err != nil {
		return nil, fmt.Errorf("pending uploads: %w", err)
	}
	us, err := scanUploads(rows, true)
	if err != nil {
		return nil, fmt.Errorf("pending uploads: %w", err)
	}
	return us, nil
}

// scanUploads reads rows of uploadColumns, then content when withContent.
func scanUploads(rows *sql.Rows, withContent bool) ([]Upload, error) {
	defer rows.Close()
	var out []Upload
	for rows.Next() {
		var u Upload
		var state string
		dest := []any{&u.ID, &u.Name, dbTime{&u.UploadedAt}, &u.Size, &u.SHA256, &state, &u.BatchID, &u.ScanID}
		if withContent {
			dest = append(dest, &u.Content)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		u.State = UploadState(state)
		out = append(out, u)
	}
	return out, rows.Err()
}

func (s *sqlStore) SaveInboxBatch(ctx context.Context, b Batch, rows []snapshot.Snapshot, uploadIDs []string, scanID string) error {
	return s.saveBatch(ctx, "save inbox batch", b, rows, func(tx *sql.Tx) error {
		return s.consumeUploads(ctx, tx, b.ID, scanID, b.IngestedAt, uploadIDs)
	})
}

// consumeUploads marks the uploads consumed by batchID in tx. Each must be
// pending, or consumed by this very batch already (a retry): one consumed
// by another batch is ErrConsumed, an unknown one ErrNotFound.
func (s *sqlStore) consumeUploads(ctx context.Context, tx *sql.Tx, batchID, scanID string, at time.Time, ids []string) error {
	for start := 0; start < len(ids); start += historyChunk {
		chunk := ids[start:min(start+historyChunk, len(ids))]
		w := where{args: []any{string(UploadConsumed), batchID, scanID, s.d.timeArg(at), string(UploadPending)}}
		w.conds = []string{"state = $5"}
		w.in("id", chunk)
		if _, err := tx.ExecContext(ctx, `UPDATE inbox SET state = $1, batch_id = $2, scan_id = $3, consumed_at = $4`+w.String(), w.args...); err != nil {
			return fmt.Errorf("consume uploads: %w", err)
		}
		w = where{}
		w.in("id", chunk)
		rows, err := tx.QueryContext(ctx, `SELECT id, batch_id FROM inbox`+w.String(), w.args...)
		if err != nil {
			return fmt.Errorf("consume uploads: %w", err)
		}
		consumedBy := map[string]string{}
		for rows.Next() {
			var id, batch string
			if err := rows.Scan(&id, &batch); err != nil {
				rows.Close()
				return fmt.Errorf("consume uploads: %w", err)
			}
			consumedBy[id] = batch
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("consume uploads: %w", err)
		}
		for _, id := range chunk {
			switch batch, ok := consumedBy[id]; {
			case !ok:
				return fmt.Errorf("upload %s: %w", id, ErrNotFound)
			case batch != batchID:
				return fmt.Errorf("upload %s, by %s: %w", id, batch, ErrConsumed)
			}
		}
	}
	return nil
}
