package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// The parts of a rendered report (Report.Parts), by kind.
const (
	ReportSummaryJSON = "summary.json"
	ReportSummaryMD   = "summary.md"
	ReportSummaryCSV  = "summary.csv"
	ReportAudit       = "audit.json" // the packet audit
	ReportRegister    = "register.csv"
)

// ReportKinds lists every part a report holds.
var ReportKinds = []string{ReportSummaryJSON, ReportSummaryMD, ReportSummaryCSV, ReportAudit, ReportRegister}

// Report is one rendered leadership report of a week. The summary workflow
// carries only its ID: the parts are the size of the book.
type Report struct {
	ID      string
	Week    string
	Created time.Time
	// Kept marks the weekly schedule's copy; other reports are pruned.
	Kept bool
	// Parts holds the content by kind; SaveReport writes them, ReportInfo
	// leaves them nil.
	Parts map[string][]byte
	// Sizes is the length of each part in bytes.
	Sizes map[string]int
}

// Reports keeps the rendered reports.
type Reports interface {
	// SaveReport stores r's parts under r.ID, replacing any stored under
	// it: a retried activity writes the same report again.
	SaveReport(ctx context.Context, r Report) error
	// ReportInfo returns a report without its parts (Sizes filled in), or
	// an error wrapping ErrNotFound.
	ReportInfo(ctx context.Context, id string) (Report, error)
	// ReportPart returns one part of a report, or an error wrapping
	// ErrNotFound.
	ReportPart(ctx context.Context, id, kind string) ([]byte, error)
	// PruneReports deletes the reports not kept that were created before
	// before, and says how many parts went.
	PruneReports(ctx context.Context, before time.Time) (int, error)
}

func (s *sqlStore) SaveReport(ctx context.Context, r Report) error {
	if r.ID == "" || r.Week == "" {
		return errors.New("save report: want an ID and a week")
	}
	if r.Created.IsZero() {
		r.Created = time.Now()
	}
	defer s.lockWrites()()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save report %s: %w", r.ID, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM reports WHERE id = $1`, r.ID); err != nil {
		return fmt.Errorf("save report %s: %w", r.ID, err)
	}
	for _, kind := range slices.Sorted(maps.Keys(r.Parts)) {
		content := r.Parts[kind]
		if content == nil {
			content = []byte{} // NOT NULL: an empty part is still a part
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO reports (id, kind, week, created_at, kept, content) VALUES ($1, $2, $3, $4, $5, $6)`,
			r.ID, kind, r.Week, s.d.timeArg(r.Created), r.Kept, content); err != nil {
			return fmt.Errorf("save report %s (%s): %w", r.ID, kind, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save report %s: %w", r.ID, err)
	}
	return nil
}

func (s *sqlStore) ReportInfo(ctx context.Context, id string) (Report, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT kind, week, created_at, kept, length(content) FROM reports WHERE id = $1 ORDER BY kind`, id)
	if err != nil {
		return Report{}, fmt.Errorf("report %s: %w", id, err)
	}
	defer rows.Close()
	r := Report{ID: id, Sizes: map[string]int{}}
	for rows.Next() {
		var kind string
		var size int
		if err := rows.Scan(&kind, &r.Week, dbTime{&r.Created}, &r.Kept, &size); err != nil {
			return Report{}, fmt.Errorf("report %s: %w", id, err)
		}
		r.Sizes[kind] = size
	}
	if err := rows.Err(); err != nil {
		return Report{}, fmt.Errorf("report %s: %w", id, err)
	}
	if len(r.Sizes) == 0 {
		return Report{}, fmt.Errorf("report %s: %w", id, ErrNotFound)
	}
	return r, nil
}

func (s *sqlStore) ReportPart(ctx context.Context, id, kind string) ([]byte, error) {
	var content []byte
	err := s.db.QueryRowContext(ctx, `SELECT content FROM reports WHERE id = $1 AND kind = $2`, id, kind).Scan(&content)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("report %s has no %s: %w", id, kind, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("report %s (%s): %w", id, kind, err)
	}
	return content, nil
}

func (s *sqlStore) PruneReports(ctx context.Context, before time.Time) (int, error) {
	return s.prune(ctx, "prune reports", `DELETE FROM reports WHERE kept = FALSE AND created_at < $1`, s.d.timeArg(before))
}
