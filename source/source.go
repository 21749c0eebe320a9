// Package source reads weekly account snapshots from a PostgreSQL warehouse.
//
// It runs the configured query (source.query) and hands the result, written
// as the CSV export of it would be, to the same reader as a snapshot file's
// (snapshot.Read), so a row of the warehouse is accepted or refused exactly
// as the same row of a file: the columns are the snapshot format's, unknown
// ones are kept but not used, an empty value (NULL) is unknown, and every
// refused row is reported with its file, row, field and reason. The file is
// named "source:<database>", and rows are numbered as a CSV file's are, the
// header being row 1: the query's first row is row 2.
//
// The result streams through: rows go from the connection to the reader a
// buffer at a time, and cancelling the context stops the query.
package source

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/churnwatch/churnwatch/snapshot"
)

// Query is the warehouse query the scan reads snapshots from.
type Query struct {
	conn *pgx.ConnConfig
	sql  string
	name string
}

// New parses the warehouse's postgres:// URL; the connection is made by
// each read. The query returns rows with the snapshot format's columns.
func New(dsn, query string) (*Query, error) {
	if strings.TrimSpace(query) == "" {
		return nil, errors.New("source.query is empty")
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgconn hides the password in its message.
		return nil, fmt.Errorf("source.dsn: %w", err)
	}
	// The values are written as a CSV export of the result would hold them;
	// dates only read as YYYY-MM-DD in the ISO style, and a timestamp with
	// a time zone is taken on its UTC date, whatever the server's default.
	cfg.RuntimeParams["DateStyle"] = "ISO, YMD"
	cfg.RuntimeParams["TimeZone"] = "UTC"
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "churnwatch"
	}
	return &Query{conn: cfg, sql: query, name: "source:" + label(cfg)}, nil
}

// Name is how rejections, warnings and a batch's inputs name the source:
// "source:" and the database's name. It holds no credentials.
func (q *Query) Name() string { return q.name }

// label is the database's name (the host's if the URL names none), made of
// letters, digits, '_' and '-' only: a dot would read as a file extension,
// which the reader takes for the format.
func label(cfg *pgx.ConnConfig) string {
	s := cfg.Database
	if s == "" {
		s = cfg.Host
	}
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			b[i] = '-'
		}
	}
	if len(b) == 0 {
		return "warehouse"
	}
	return string(b)
}

// Read runs the query and reads its rows as snapshot.Read reads a CSV file
// named q.Name(). sum is the SHA-256 of the CSV the rows were read from, so
// that a scan of an unchanged warehouse is recognised as the same input.
// The error is for the query or the connection, never for a bad row.
func (q *Query) Read(ctx context.Context) (batch snapshot.Batch, sum []byte, err error) {
	pr, pw := io.Pipe()
	h := sha256.New()
	written := make(chan error, 1)
	go func() {
		_, err := q.WriteCSV(ctx, io.MultiWriter(pw, h))
		pw.CloseWithError(err) // nil: the reader sees the end of the file
		written <- err
	}()
	batch, err = snapshot.Read(pr, q.name)
	// The reader reads to the end; should it stop early, the writer must
	// not wait on the pipe for ever.
	pr.CloseWithError(errors.New("the snapshot reader stopped"))
	// The reader fails only when the pipe does, so the query's own error is
	// the one to report.
	if werr := <-written; werr != nil {
		return snapshot.Batch{}, nil, werr
	}
	if err != nil {
		return snapshot.Batch{}, nil, err
	}
	return batch, h.Sum(nil), nil
}

// Refused reports whether err is the warehouse refusing the query or the
// connection for a reason that running it again will not mend: a syntax
// error, a missing table, column or database, a denied permission or
// password, a bad value, an attempt to write. source.query or source.dsn
// must change. A lost connection or a timeout is not refused.
func Refused(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || len(pe.Code) < 2 {
		return false
	}
	switch pe.Code[:2] {
	case "42", // syntax error or access rule violation
		"22", // data exception
		"21", // cardinality violation (a subquery gave more than one row)
		"0A", // feature not supported
		"25", // invalid transaction state: the read-only transaction refused a write
		"28", // invalid authorization
		"3D", // no such database
		"3F": // no such schema
		return true
	}
	return false
}

// Join adds the source's rows to the files', read before them, as the
// reader joins the files of one input: a source row for an account and
// week the files already gave is rejected, like the later of two such rows
// across files, and the rejections stay in row order.
func Join(files, src snapshot.Batch) snapshot.Batch {
	given := make(map[accountWeek]snapshot.Source, len(files.Rows))
	for i := range files.Rows {
		r := &files.Rows[i]
		k := accountWeek{r.AccountID, r.Week.Unix()}
		if _, ok := given[k]; !ok {
			given[k] = r.Source
		}
	}
	kept := src.Rows[:0]
	var dups []snapshot.Rejection
	for _, r := range src.Rows {
		first, ok := given[accountWeek{r.AccountID, r.Week.Unix()}]
		if !ok {
			kept = append(kept, r)
			continue
		}
		// The reader's wording for a week given twice.
		dups = append(dups, snapshot.Rejection{File: r.Source.File, Row: r.Source.Row, Field: "week",
			Reason: "account " + strconv.Quote(r.AccountID) + " week " + snapshot.FormatDate(r.Week) +
				" was already given in " + first.File + " row " + strconv.Itoa(first.Row)})
	}
	out := snapshot.Batch{Rows: kept, Rejected: files.Rejected, Warnings: append(files.Warnings, src.Warnings...)}
	if len(files.Rows) > 0 {
		out.Rows = append(files.Rows, kept...)
	}
	rej := src.Rejected
	for len(rej) > 0 || len(dups) > 0 {
		if len(dups) == 0 || len(rej) > 0 && rej[0].Row <= dups[0].Row {
			out.Rejected, rej = append(out.Rejected, rej[0]), rej[1:]
		} else {
			out.Rejected, dups = append(out.Rejected, dups[0]), dups[1:]
		}
	}
	return out
}

type accountWeek struct {
	id   string
	week int64
}
