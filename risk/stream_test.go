package risk

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/simulate"
	"github.com/churnwatch/churnwatch/snapshot"
)

// TestBookReportMatchesReport writes the same books both ways, as of their
// latest week and as of a week before an account's first: the report
// written from a RankedBook, which keeps no assessment, must be byte for
// byte the report written from ScoreTable's assessments, table and JSON.
func TestBookReportMatchesReport(t *testing.T) {
	dir := t.TempDir()
	// A-LATE's only week is the latest: as of the week before, it is not
	// yet a customer and must be left out both ways.
	example, err := os.ReadFile("../examples/portfolio.csv")
	if err != nil {
		t.Fatal(err)
	}
	var late string
	for line := range strings.Lines(string(example)) {
		if strings.HasPrefix(line, "A-1001,") && strings.Contains(line, ",2026-11-16,") {
			late = strings.Replace(line, "A-1001,", "A-LATE,", 1)
		}
	}
	if late == "" {
		t.Fatal("examples/portfolio.csv lost A-1001's week of 2026-11-16")
	}
	withLate := filepath.Join(dir, "late.csv")
	if err := os.WriteFile(withLate, append(example, late...), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.csv")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := simulate.WriteBenchmarkBook(f, 5000, 14); err != nil {
		t.Fatal(err)
	}
	f.Close()

	m := DefaultModel()
	for _, tc := range []struct {
		name  string
		files []string
		asOf  string
	}{
		{"example with bad rows", []string{withLate, "../examples/bad_rows.csv"}, ""},
		{"example before A-LATE", []string{withLate}, "2026-11-09"},
		{"5000 accounts", []string{big}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var asOf time.Time
			if tc.asOf != "" {
				asOf, _ = time.Parse(time.DateOnly, tc.asOf)
			}
			table, batch, err := snapshot.ReadTable(tc.files)
			if err != nil {
				t.Fatal(err)
			}
			want := m.NewTableReport(table, batch, asOf)
			if len(want.Accounts) < 40 {
				t.Fatalf("only %d accounts scored", len(want.Accounts))
			}
			write := func(f func(*bytes.Buffer) error) []byte {
				var b bytes.Buffer
				if err := f(&b); err != nil {
					t.Fatal(err)
				}
				return b.Bytes()
			}
			wantJSON := write(func(b *bytes.Buffer) error { return want.WriteJSON(b) })
			wantTable := write(func(b *bytes.Buffer) error { return want.WriteTable(b) })
			for _, forTable := range []bool{true, false} {
				got := m.NewBookReport(table, batch, asOf, forTable)
				if got.Book.Len() != len(want.Accounts) {
					t.Fatalf("forTable %v: %d ranked, want %d", forTable, got.Book.Len(), len(want.Accounts))
				}
				if b := write(func(b *bytes.Buffer) error { return got.WriteTable(b) }); !bytes.Equal(b, wantTable) {
					t.Errorf("forTable %v: table differs:\n%.1500s\nwant:\n%.1500s", forTable, b, wantTable)
				}
				if b := write(func(b *bytes.Buffer) error { return got.WriteJSON(b) }); !bytes.Equal(b, wantJSON) {
					t.Errorf("forTable %v: JSON differs:\n%.1500s\nwant:\n%.1500s", forTable, b, wantJSON)
				}
			}
			if tc.asOf != "" && strings.Contains(string(wantJSON), "A-LATE") {
				t.Error("an account not yet a customer was scored")
			}
		})
	}
}
