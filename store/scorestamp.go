package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// ScoreStamp tells whether a week's stored scores changed since it was read.
// A score is only ever saved as a new row (a rescan with the same batch and
// configuration writes nothing; a new configuration adds rows; a newer batch
// replaces a row with a new one), so the week's row count and its newest
// row's id stay put until a score of the week is saved. A reader that
// keeps what it derived from a week's rows keeps the stamp read before them
// and reads the rows again when the stamp differs.
type ScoreStamp struct {
	Rows   int   // the week's score rows, every configuration
	LastID int64 // the newest row's id; 0 when the week has none
}

// ScoreStamp counts the week's entries of the scores_week_heads index (as_of
// first) without reading a row. PostgreSQL does that in a few milliseconds;
// SQLite through this driver takes about ten a week of 100,000 accounts, so
// there the counts are remembered with the newest id when they were made,
// and only the weeks of the ids saved since are counted again (see
// sqliteStamps).
func (s *sqlStore) ScoreStamp(ctx context.Context, week string) (ScoreStamp, error) {
	if s.d.name != "sqlite" {
		return s.countStamp(ctx, week)
	}
	var newest sql.NullInt64 // a bare MAX, which SQLite answers from the end of the primary key
	if err := s.db.QueryRowContext(ctx, `SELECT MAX(id) FROM scores`).Scan(&newest); err != nil {
		return ScoreStamp{}, fmt.Errorf("score stamp of %s: %w", week, err)
	}
	last := newest.Int64
	m := &s.stamps
	m.mu.Lock()
	if err := m.catchUp(ctx, s.db, last); err != nil {
		m.mu.Unlock()
		return ScoreStamp{}, fmt.Errorf("score stamp of %s: %w", week, err)
	}
	st, ok := m.stamps[week]
	m.mu.Unlock()
	if ok {
		return st, nil
	}
	st, err := s.countStamp(ctx, week)
	if err != nil {
		return ScoreStamp{}, err
	}
	m.mu.Lock()
	if m.lastID == last { // else ids above last came meanwhile: st may predate them
		m.stamps[week] = st
	}
	m.mu.Unlock()
	return st, nil
}

func (s *sqlStore) countStamp(ctx context.Context, week string) (ScoreStamp, error) {
	var st ScoreStamp
	var last sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), MAX(id) FROM scores WHERE as_of = $1`, week).Scan(&st.Rows, &last)
	if err != nil {
		return ScoreStamp{}, fmt.Errorf("score stamp of %s: %w", week, err)
	}
	st.LastID = last.Int64
	return st, nil
}

// stampMemo is a SQLite store's counted stamps, valid while MAX(id) is
// lastID. SQLite has one writer at a time and scores take AUTOINCREMENT
// ids, never reused, so a score committed after a read has a higher id than
// any that read saw: while MAX(id), one probe of the primary key, stays
// put, so does every stamp. PostgreSQL commits concurrent writers in any
// order (a lower id can appear later), so there every stamp is counted.
type stampMemo struct {
	mu     sync.Mutex
	lastID int64
	stamps map[string]ScoreStamp
}

// catchUp forgets the stamps of the weeks with ids above m.lastID, reading
// only those rows, and moves m.lastID to last. NOT INDEXED keeps SQLite to
// the rowid range: left to itself it scans the whole (as_of, ...) index
// for the DISTINCT.
func (m *stampMemo) catchUp(ctx context.Context, db *sql.DB, last int64) error {
	if m.stamps == nil {
		m.stamps = map[string]ScoreStamp{}
	}
	switch {
	case last == m.lastID:
		return nil
	case last < m.lastID || len(m.stamps) == 0: // a file put back from a copy; or nothing to forget
		m.stamps = map[string]ScoreStamp{}
		m.lastID = last
		return nil
	}
	rows, err := db.QueryContext(ctx, `SELECT DISTINCT as_of FROM scores NOT INDEXED WHERE id > $1`, m.lastID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var week string
		if err := rows.Scan(&week); err != nil {
			return err
		}
		delete(m.stamps, week)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	m.lastID = last
	return nil
}
