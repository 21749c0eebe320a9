package snapshot

import (
	"bytes"
	"strings"
	"testing"
)

// lower sets *v to n for the test.
func lower(t *testing.T, v *int, n int) {
	old := *v
	*v = n
	t.Cleanup(func() { *v = old })
}

const limitsHeader = "account_id,account_name,week,owner,arr,notes\n"

func TestReaderSkipsLongLines(t *testing.T) {
	lower(t, &maxLineBytes, 1000)
	lower(t, &chunkRecords, 2)
	long := strings.Repeat("x", 5000)
	data := limitsHeader +
		"A-1,Northwind,2026-11-23,dana,100,\n" +
		"A-2," + long + ",2026-11-23,dana,100,\n" +
		"A-3,Contoso,2026-11-23,dana,100,\n" +
		"A-4,Fabrikam,2026-11-23,dana,100," + long + "\n" // the last line, no newline after it is the same
	b := readBothWays(t, []byte(data), "big.csv")
	if ids := rowIDs(b); ids != "A-1 A-3" {
		t.Errorf("accepted %q, want A-1 A-3", ids)
	}
	if len(b.Rejected) != 2 {
		t.Fatalf("rejected %+v, want rows 3 and 5", b.Rejected)
	}
	for i, row := range []int{3, 5} {
		r := b.Rejected[i]
		if r.File != "big.csv" || r.Row != row || !strings.Contains(r.Reason, "line longer than the 1000 bytes limit") {
			t.Errorf("rejection %d = %+v, want big.csv row %d, line too long", i, r, row)
		}
	}

	// A quoted cell running on over many lines is one record, bounded too.
	quoted := limitsHeader + "A-1,Northwind,2026-11-23,dana,100,\"" + strings.Repeat(strings.Repeat("y", 99)+"\n", 30) + "\"\n"
	b, err := Read(strings.NewReader(quoted), "quoted.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Rows) != 0 || len(b.Rejected) == 0 || !strings.Contains(b.Rejected[0].Reason, "record longer than") {
		t.Errorf("rows %d, rejected %+v: want the record refused as too long", len(b.Rows), b.Rejected)
	}
}

// TestLongLineIsNotHeld reads a 4 MB line with a 1000-byte limit: the
// splitter must drop it as it goes, not grow its buffer to hold it.
func TestLongLineIsNotHeld(t *testing.T) {
	lower(t, &maxLineBytes, 1000)
	data := limitsHeader + "A-1," + strings.Repeat("x", 4<<20) + "\nA-2,Contoso,2026-11-23,dana,100,\n"
	rd := newReader()
	var sp *csvSplitter
	if err := rd.readCSVWith(strings.NewReader(data), "big.csv", 0, func(s *csvSplitter) { sp = s }); err != nil {
		t.Fatal(err)
	}
	if n := len(sp.buf); n > 256<<10 {
		t.Errorf("splitter buffer grew to %d bytes for a line over the limit", n)
	}
	b := rd.finish()
	if len(b.Rows) != 1 || b.Rows[0].AccountID != "A-2" || len(b.Rejected) != 1 || b.Rejected[0].Row != 2 {
		t.Errorf("rows %d, rejected %+v: want A-2 read and row 2 refused", len(b.Rows), b.Rejected)
	}
}

func TestReaderRefusesTooManyColumns(t *testing.T) {
	var h bytes.Buffer
	h.WriteString("account_id,week,owner")
	for i := range 600 {
		h.WriteString(",c")
		h.WriteString(strings.Repeat("x", i%7+1))
	}
	h.WriteString("\nA-1,2026-11-23,dana\n")
	_, err := Read(&h, "wide.csv")
	if err == nil || !strings.Contains(err.Error(), "wide.csv") || !strings.Contains(err.Error(), "603 columns, more than the limit of 512") {
		t.Fatalf("err = %v, want wide.csv refused for its 603 columns", err)
	}
}

func TestReaderRefusesHugeCellsButNotFreeText(t *testing.T) {
	huge := strings.Repeat("z", 70<<10)
	csv := limitsHeader +
		"A-1," + huge + ",2026-11-23,dana,100,\n" +
		"A-2,Contoso,2026-11-23,dana,100," + huge + "\n"
	b := readBothWays(t, []byte(csv), "cells.csv")
	if len(b.Rejected) != 1 || b.Rejected[0].Row != 2 || b.Rejected[0].Field != "account_name" ||
		!strings.Contains(b.Rejected[0].Reason, "71,680 bytes, more than the 64 KB limit") {
		t.Errorf("rejected %+v, want row 2 account_name refused as too long", b.Rejected)
	}
	if rowIDs(b) != "A-2" {
		t.Errorf("accepted %q, want A-2 (its long notes are free text)", rowIDs(b))
	}

	nd := `{"account_id":"A-1","account_name":"N","week":"2026-11-23","owner":"` + huge + `","arr":1}` + "\n" +
		`{"account_id":"A-2","account_name":"N","week":"2026-11-23","owner":"dana","arr":1}` + "\n"
	b, err := Read(strings.NewReader(nd), "cells.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Rejected) != 1 || b.Rejected[0].Field != "owner" || !strings.Contains(b.Rejected[0].Reason, "64 KB limit") || rowIDs(b) != "A-2" {
		t.Errorf("rows %q, rejected %+v: want owner of row 1 refused", rowIDs(b), b.Rejected)
	}
}

func TestNDJSONSkipsLongLines(t *testing.T) {
	lower(t, &maxLineBytes, 1000)
	nd := `{"account_id":"A-1","account_name":"N","week":"2026-11-23","owner":"` + strings.Repeat("d", 300<<10) + `"}` + "\n" +
		`{"account_id":"A-2","account_name":"N","week":"2026-11-23","owner":"dana","arr":1}` + "\n"
	b, err := Read(strings.NewReader(nd), "long.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Rejected) != 1 || b.Rejected[0].Row != 1 || !strings.Contains(b.Rejected[0].Reason, "line longer than") || rowIDs(b) != "A-2" {
		t.Errorf("rows %q, rejected %+v: want row 1 refused as too long", rowIDs(b), b.Rejected)
	}
}

func rowIDs(b Batch) string {
	ids := make([]string, len(b.Rows))
	for i, r := range b.Rows {
		ids[i] = r.AccountID
	}
	return strings.Join(ids, " ")
}
