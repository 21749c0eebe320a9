package source

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// WriteCSV runs the query in a read-only transaction and writes its result
// to w as CSV: a header of the query's column names, then a record a row,
// each value as a CSV export of the result holds it: NULL empty (unknown),
// booleans true/false, dates and timestamps YYYY-MM-DD (a timestamp with
// a time zone on its UTC date), floating-point numbers without exponent,
// anything else as PostgreSQL writes it as text. It returns the rows
// written. Rows are written as they arrive: the result is never held.
func (q *Query) WriteCSV(ctx context.Context, w io.Writer) (int, error) {
	conn, err := pgx.ConnectConfig(ctx, q.conn)
	if err != nil {
		return 0, fmt.Errorf("source.dsn: %w", err)
	}
	defer conn.Close(ctx)
	// A source only reads; closing the connection ends the transaction.
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return 0, fmt.Errorf("source.dsn: begin a read-only transaction: %w", err)
	}
	// Every column in text, the form a CSV export starts from.
	rows, err := tx.Query(ctx, q.sql, pgx.QueryResultFormats{pgx.TextFormatCode})
	if err != nil {
		return 0, fmt.Errorf("source.query: %w", err)
	}
	defer rows.Close()
	fields := rows.FieldDescriptions()
	kinds := make([]kind, len(fields))
	bw := bufio.NewWriterSize(w, 64<<10)
	for i, f := range fields {
		kinds[i] = kindOf(f.DataTypeOID)
		if i > 0 {
			bw.WriteByte(',')
		}
		// Every name quoted: the reader then never takes the header's first
		// byte for the start of JSON.
		writeQuoted(bw, []byte(f.Name))
	}
	bw.WriteByte('\n')
	n := 0
	var scratch [32]byte
	for rows.Next() {
		values := rows.RawValues()
		for i, v := range values {
			if i > 0 {
				bw.WriteByte(',')
			}
			if v == nil {
				if len(values) == 1 {
					bw.WriteString(`""`) // an empty line would be no row at all
				}
				continue
			}
			v = kinds[i].format(v, scratch[:0])
			writeField(bw, v, len(values) == 1)
		}
		if err := bw.WriteByte('\n'); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("source.query: %w", err)
	}
	return n, bw.Flush()
}

// kind is how a column's text is turned into the CSV export's.
type kind uint8

const (
	asText kind = iota
	asBool
	asFloat32
	asFloat64
	asTimestamp
)

func kindOf(oid uint32) kind {
	switch oid {
	case pgtype.BoolOID:
		return asBool
	case pgtype.Float4OID:
		return asFloat32
	case pgtype.Float8OID:
		return asFloat64
	case pgtype.TimestampOID, pgtype.TimestamptzOID:
		return asTimestamp
	}
	// Dates are YYYY-MM-DD in the ISO style New sets; numeric and integer
	// text never has an exponent.
	return asText
}

// format returns v, PostgreSQL's text for a value of kind k, as the CSV
// export writes it, appending to dst when it is written anew.
func (k kind) format(v, dst []byte) []byte {
	switch k {
	case asBool:
		switch string(v) {
		case "t":
			return append(dst, "true"...)
		case "f":
			return append(dst, "false"...)
		}
	case asFloat32, asFloat64:
		// Since PostgreSQL 12, float text is the shortest exact form, with
		// an exponent for large and small numbers: 1e+20, 1e-05.
		bits := 64
		if k == asFloat32 {
			bits = 32
		}
		x, err := strconv.ParseFloat(string(v), bits)
		if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
			return v // NaN, Infinity: the reader says why not
		}
		return strconv.AppendFloat(dst, x, 'f', -1, bits)
	case asTimestamp:
		// "2026-11-16 13:45:00[+00]": the date part, as the reader takes it.
		// A BC date or infinity is left for the reader to refuse.
		if i := bytes.IndexByte(v, ' '); i > 0 && !bytes.HasSuffix(v, []byte(" BC")) {
			return v[:i]
		}
	}
	return v
}

// writeField writes a value, quoted when CSV needs it to be (as
// encoding/csv's writer quotes), or when alone is set and it is empty.
func writeField(bw *bufio.Writer, v []byte, alone bool) {
	if len(v) == 0 && alone || bytes.ContainsAny(v, ",\"\r\n") || len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		writeQuoted(bw, v)
		return
	}
	bw.Write(v)
}

func writeQuoted(bw *bufio.Writer, v []byte) {
	bw.WriteByte('"')
	for {
		i := bytes.IndexByte(v, '"')
		if i < 0 {
			break
		}
		bw.Write(v[:i+1])
		bw.WriteByte('"')
		v = v[i+1:]
	}
	bw.Write(v)
	bw.WriteByte('"')
}
