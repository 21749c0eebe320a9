package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"               // registers the "sqlite" database/sql driver (pure Go)
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect holds the few things SQLite and PostgreSQL do differently. The SQL
// itself is shared: both accept $n placeholders, INSERT ... ON CONFLICT and
// window functions.
type dialect struct {
	name string

	// Column types substituted into the migrations.
	ID, Time, JSON, Float, Blob string

	// migrationLock, when set, is run first in the migration transaction so
	// that two processes opening the store at once migrate one after the other.
	migrationLock string

	// serializeWrites makes the process take a mutex around writes: SQLite
	// has one writer at a time, and queueing in Go is far cheaper than
	// SQLite's busy-wait back-off. Other processes still wait on busy_timeout.
	serializeWrites bool

	// maxParams is the most bind parameters one statement may carry.
	maxParams int
}

// placeholder returns the n-th bind parameter for statements with many of
// them. $n works in both, but SQLite treats $n as a name and finds names by a
// linear search, which makes a 5,000-parameter INSERT quadratic; plain ? is
// positional.
func (d *dialect) placeholder(n int) string {
	if d.name == "sqlite" {
		return "?"
	}
	return "$" + strconv.Itoa(n)
}

// timeLayout is how SQLite stores times: fixed width UTC, so text order is
// time order. Microseconds, like PostgreSQL, so both stores keep the same value.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// timeArg converts t into the value the dialect stores.
func (d *dialect) timeArg(t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	if d.name == "sqlite" {
		return t.Format(timeLayout)
	}
	return t
}

var (
	sqliteDialect = &dialect{
		name:            "sqlite",
		ID:              "INTEGER PRIMARY KEY AUTOINCREMENT",
		Time:            "TEXT",
		JSON:            "TEXT",
		Float:           "REAL",
		Blob:            "BLOB",
		serializeWrites: true,
		maxParams:       32766,
	}
	// PostgreSQL keeps the JSON blobs as json rather than jsonb: Churnwatch
	// never queries inside them, and json keeps any text (jsonb refuses \u0000).
	postgresDialect = &dialect{
		name:          "postgres",
		ID:            "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
		Time:          "TIMESTAMPTZ",
		JSON:          "JSON",
		Float:         "DOUBLE PRECISION",
		Blob:          "BYTEA",
		migrationLock: "SELECT pg_advisory_xact_lock(7201553390412)", // any fixed number unique to Churnwatch
		maxParams:     65535,
	}
)

// openSQLite opens the SQLite file at path. WAL lets readers run beside the
// writer; busy_timeout makes a second process (the worker and a starter
// command, say) wait for the lock instead of failing; _txlock=immediate takes
// the write lock when a transaction begins, so two writers never deadlock
// upgrading a read lock.
func openSQLite(ctx context.Context, path string) (Store, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := pingSQLite(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s, err := newSQLStore(ctx, db, sqliteDialect)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

// pingSQLite opens the first connection. Switching a new file to WAL takes
// a lock that SQLite does not wait for through busy_timeout, so when two
// processes create the file at once one of them sees SQLITE_BUSY; it retries
// for as long as busy_timeout would have waited.
func pingSQLite(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(10 * time.Second)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err := db.PingContext(ctx)
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// openPostgres opens PostgreSQL through pgx's database/sql driver.
func openPostgres(ctx context.Context, dsn string) (Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", redact(dsn), err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s, err := newSQLStore(ctx, db, postgresDialect)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", redact(dsn), err)
	}
	return s, nil
}

// dbTime scans a time stored by either dialect: text in SQLite, timestamptz
// in PostgreSQL. NULL leaves the zero time.
type dbTime struct{ t *time.Time }

func (d dbTime) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*d.t = time.Time{}
	case time.Time:
		*d.t = v.UTC()
	case string:
		return d.parse(v)
	case []byte:
		return d.parse(string(v))
	default:
		return fmt.Errorf("cannot read %T as a time", v)
	}
	return nil
}

func (d dbTime) parse(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("stored time %q: %w", s, err)
	}
	*d.t = t.UTC()
	return nil
}
