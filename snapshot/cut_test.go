package snapshot

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// A 10 MB notes cell once made a review's evidence exceed Temporal's payload
// limit; the reader now cuts it, and says so, whichever way it is read.
func TestOversizedFreeTextIsCutWithAWarning(t *testing.T) {
	huge := strings.Repeat("é", 5<<20) // 10 MB, two bytes a character
	goal := strings.Repeat("g", 2000)
	csv := "account_id,account_name,week,owner,arr,notes,success_goal,crm_note\n" +
		"A-1,Northwind,2026-11-09,dana,1000,short note,fine goal,ok\n" +
		"A-1,Northwind,2026-11-16,dana,1000," + huge + "," + goal + "," + strings.Repeat("x", 5000) + "\n"
	dir := t.TempDir()
	path := filepath.Join(dir, "book.csv")
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	json := `[{"account_id":"A-1","account_name":"Northwind","week":"2026-11-16","owner":"dana","arr":1000,"notes":"` + huge + `"}]`
	jpath := filepath.Join(dir, "book.json")
	if err := os.WriteFile(jpath, []byte(json), 0o600); err != nil {
		t.Fatal(err)
	}

	check := func(t *testing.T, b Batch, rows []Snapshot, file string, row int, fields ...string) {
		t.Helper()
		for _, f := range fields {
			want := file + " row " + strconv.Itoa(row) + " " + f + ": cut from "
			found := false
			for _, w := range b.Warnings {
				found = found || strings.HasPrefix(w, want)
			}
			if !found {
				t.Errorf("no warning %q… in %q", want, b.Warnings)
			}
		}
		if len(rows) == 0 {
			t.Fatal("no rows")
		}
		last := rows[len(rows)-1]
		if len(last.Notes) > MaxNotesBytes+64 || !utf8.ValidString(last.Notes) {
			t.Errorf("notes kept %d bytes (valid UTF-8: %v), want at most about %d", len(last.Notes), utf8.ValidString(last.Notes), MaxNotesBytes)
		}
		if !strings.HasSuffix(last.Notes, "… [cut: 10,485,760 bytes]") {
			t.Errorf("notes end %q, want the cut marker", last.Notes[max(0, len(last.Notes)-40):])
		}
		if len(rows) > 1 && rows[0].Notes != "short note" {
			t.Errorf("a short note was changed: %q", rows[0].Notes)
		}
	}

	t.Run("rows", func(t *testing.T) {
		b, err := ReadFiles([]string{path})
		if err != nil {
			t.Fatal(err)
		}
		check(t, b, b.Rows, path, 3, "notes", "success_goal", "crm_note")
		if r := b.Rows[1]; len(r.SuccessGoal) > MaxGoalBytes+64 || len(r.Extra["crm_note"]) > MaxExtraBytes+64 {
			t.Errorf("goal %d bytes, crm_note %d bytes: not cut", len(r.SuccessGoal), len(r.Extra["crm_note"]))
		}
	})
	t.Run("table", func(t *testing.T) {
		tab, b, err := ReadTable([]string{path})
		if err != nil {
			t.Fatal(err)
		}
		rows := make([]Snapshot, tab.Len())
		for i := range rows {
			tab.Row(i, &rows[i])
		}
		check(t, b, rows, path, 3, "notes", "success_goal")
	})
	t.Run("json", func(t *testing.T) {
		b, err := ReadFiles([]string{jpath})
		if err != nil {
			t.Fatal(err)
		}
		check(t, b, b.Rows, jpath, 1, "notes")
	})
}

func TestCutTextKeepsWholeCharacters(t *testing.T) {
	for limit := 0; limit < 8; limit++ {
		got := CutText("aé€😀bcdefgh", limit)
		if !utf8.ValidString(got) {
			t.Errorf("CutText(limit %d) = %q: not valid UTF-8", limit, got)
		}
	}
	if got := groupThousands(10485760); got != "10,485,760" {
		t.Errorf("groupThousands = %q", got)
	}
	if got := groupThousands(999); got != "999" {
		t.Errorf("groupThousands = %q", got)
	}
}
