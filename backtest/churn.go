package backtest

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
)

// ReadChurnCSV reads churn outcomes: a CSV with a header naming at least
// account_id and churn_date (YYYY-MM-DD); other columns are ignored. Rows
// with a missing account id or a bad date are reported as rejections naming
// the file, row and field, and the valid rows still go through. An account
// listed twice keeps its earliest date; the other row is reported. The error
// is for a file that cannot be read or has no usable header.
func ReadChurnCSV(path string) (map[string]time.Time, []snapshot.Rejection, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read churn file: %w", err)
	}
	defer f.Close()
	return ReadChurn(f, path)
}

// ReadChurn is ReadChurnCSV on a reader; name is used in rejections.
func ReadChurn(r io.Reader, name string) (map[string]time.Time, []snapshot.Rejection, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, fmt.Errorf("%s: empty file, want a header with account_id,churn_date", name)
		}
		return nil, nil, fmt.Errorf("%s: header: %w", name, err)
	}
	idCol, dateCol := -1, -1
	for i, h := range header {
		switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) {
		case "account_id":
			idCol = i
		case "churn_date":
			dateCol = i
		}
	}
	if idCol < 0 || dateCol < 0 {
		return nil, nil, fmt.Errorf("%s: header %q lacks account_id and churn_date", name, strings.Join(header, ","))
	}
	out := map[string]time.Time{}
	firstRow := map[string]int{}
	var rejected []snapshot.Rejection
	reject := func(row int, field, reason string) {
		rejected = append(rejected, snapshot.Rejection{File: name, Row: row, Field: field, Reason: reason})
	}
	for row := 2; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && !errors.Is(pe.Err, csv.ErrQuote) && !errors.Is(pe.Err, csv.ErrBareQuote) {
				return out, rejected, fmt.Errorf("%s: row %d: %w", name, row, err)
			}
			reject(row, "", err.Error())
			continue
		}
		cell := func(i int) string {
			if i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		id, ds := cell(idCol), cell(dateCol)
		if id == "" {
			reject(row, "account_id", "required field is empty")
			continue
		}
		if ds == "" {
			reject(row, "churn_date", "required field is empty")
			continue
		}
		d, ok := snapshot.ParseDate(ds)
		if !ok {
			reject(row, "churn_date", fmt.Sprintf("%q is not a date (YYYY-MM-DD)", ds))
			continue
		}
		if prev, dup := out[id]; dup {
			keep := prev
			if d.Before(prev) {
				keep = d
				out[id] = d
			}
			reject(row, "account_id", fmt.Sprintf("account %q already has a churn date at row %d; kept the earlier, %s",
				id, firstRow[id], snapshot.FormatDate(keep)))
			continue
		}
		out[id], firstRow[id] = d, row
	}
	return out, rejected, nil
}
