// Package importer turns other systems' exports into weekly account
// snapshots (see docs/snapshots.md): the RavenStack
// multi-table SaaS export and product-analytics event logs.
//
// Every importer follows the snapshot rules: a bad row is reported with its
// file, row and field and the valid rows still go through; a value the
// source does not have stays unknown, never zero.
package importer

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
)

// Result is what an import produced.
type Result struct {
	Rows     []snapshot.Snapshot
	Churn    map[string]time.Time // account id → churn date, when the source has churn
	Rejected []snapshot.Rejection
	Warnings []string
}

// table reads one CSV file with a header and hands each data row to fn.
type table struct {
	file     string
	cols     map[string]int
	rec      []string
	row      int
	rejected *[]snapshot.Rejection
	bad      bool // the current row has been rejected
}

// readTable opens path, checks the header has the required columns and calls
// fn for each row. Rows that fail CSV parsing are rejected; fn rejects rows
// through t.reject.
func readTable(path string, required []string, rejected *[]snapshot.Rejection, fn func(t *table)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return readTableFrom(f, path, required, rejected, fn)
}

func readTableFrom(r io.Reader, name string, required []string, rejected *[]snapshot.Rejection, fn func(t *table)) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: empty file, want a header with %s", name, strings.Join(required, ","))
		}
		return fmt.Errorf("%s: header: %w", name, err)
	}
	t := &table{file: name, cols: map[string]int{}, rejected: rejected}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, dup := t.cols[h]; !dup {
			t.cols[h] = i
		}
	}
	var missing []string
	for _, c := range required {
		if _, ok := t.cols[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: header lacks %s", name, strings.Join(missing, ", "))
	}
	for t.row = 2; ; t.row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && (errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote)) {
				t.reject("", err.Error())
				continue
			}
			return fmt.Errorf("%s: row %d: %w", name, t.row, err)
		}
		t.rec, t.bad = rec, false
		fn(t)
	}
}

func (t *table) has(col string) bool { _, ok := t.cols[col]; return ok }

// get returns the trimmed cell of col ("" when the column or cell is absent).
func (t *table) get(col string) string {
	i, ok := t.cols[col]
	if !ok || i >= len(t.rec) {
		return ""
	}
	return strings.TrimSpace(t.rec[i])
}

func (t *table) reject(field, reason string) {
	if t.bad {
		return // one report per row: the first problem found
	}
	t.bad = true
	*t.rejected = append(*t.rejected, snapshot.Rejection{File: t.file, Row: t.row, Field: field, Reason: reason})
}

// required returns col's cell, rejecting the row when it is empty.
func (t *table) required(col string) string {
	v := t.get(col)
	if v == "" {
		t.reject(col, "required field is empty")
	}
	return v
}

// date reads col as YYYY-MM-DD (a trailing time is ignored). Empty is
// unknown unless need is set.
func (t *table) date(col string, need bool) (time.Time, bool) {
	v := t.get(col)
	if v == "" {
		if need {
			t.reject(col, "required field is empty")
		}
		return time.Time{}, false
	}
	d, ok := snapshot.ParseDate(v)
	if !ok {
		t.reject(col, fmt.Sprintf("%q is not a date (YYYY-MM-DD)", v))
	}
	return d, ok
}

// number reads col as a non-negative number. Empty is unknown.
func (t *table) number(col string) (float64, bool) {
	v := t.get(col)
	if v == "" {
		return 0, false
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil {
		t.reject(col, fmt.Sprintf("%q is not a number", v))
		return 0, false
	}
	if x < 0 {
		t.reject(col, fmt.Sprintf("%q is negative", v))
		return 0, false
	}
	return x, true
}

// boolean reads TRUE/FALSE, true/false, yes/no, 1/0. Empty is unknown.
func (t *table) boolean(col string) (bool, bool) {
	switch strings.ToLower(t.get(col)) {
	case "":
		return false, false
	case "true", "yes", "1", "t", "y":
		return true, true
	case "false", "no", "0", "f", "n":
		return false, true
	}
	t.reject(col, fmt.Sprintf("%q is not a boolean", t.get(col)))
	return false, false
}

// WriteChurnCSV writes a churn map as the CSV the backtest reads:
// account_id,churn_date, sorted by account id.
func WriteChurnCSV(w io.Writer, churn map[string]time.Time) error {
	ids := make([]string, 0, len(churn))
	for id := range churn {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"account_id", "churn_date"}); err != nil {
		return err
	}
	for _, id := range ids {
		if err := cw.Write([]string{id, snapshot.FormatDate(churn[id])}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
