package snapshot

import (
	"bytes"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// readBothWays reads data on one goroutine into Rows, and with a sink,
// which parses on several; it fails unless both give the same rows,
// rejections and warnings, in the same order.
func readBothWays(t testing.TB, data []byte, name string) Batch {
	t.Helper()
	want, err := Read(bytes.NewReader(data), name)
	if err != nil {
		t.Fatal(err)
	}
	rd := newReader()
	var rows []Snapshot
	rd.sink = func(s *Snapshot) { rows = append(rows, *s) }
	if err := rd.read(bytes.NewReader(data), name, int64(len(data))); err != nil {
		t.Fatal(err)
	}
	got := rd.finish()
	if rows == nil {
		rows = []Snapshot{}
	}
	if !reflect.DeepEqual(rows, want.Rows) {
		t.Fatalf("streamed %d rows, want %d:\n got %+v\nwant %+v", len(rows), len(want.Rows), rows, want.Rows)
	}
	if !reflect.DeepEqual(got.Rejected, want.Rejected) || !reflect.DeepEqual(got.Warnings, want.Warnings) {
		t.Fatalf("streamed rejections %+v %q,\nwant %+v %q", got.Rejected, got.Warnings, want.Rejected, want.Warnings)
	}

	// Into a table, as ReadTable reads: rows packed on the workers, and
	// weeks given twice found by the table.
	tab := NewTable()
	rd = newReader()
	rd.table, rd.p.borrow = tab, true
	if err := rd.read(bytes.NewReader(data), name, int64(len(data))); err != nil {
		t.Fatal(err)
	}
	got = rd.finish()
	rows = make([]Snapshot, tab.Len())
	for i := range rows {
		tab.Row(i, &rows[i])
	}
	if !reflect.DeepEqual(rows, want.Rows) {
		t.Fatalf("table has %d rows, want %d:\n got %+v\nwant %+v", len(rows), len(want.Rows), rows, want.Rows)
	}
	if !reflect.DeepEqual(got.Rejected, want.Rejected) || !reflect.DeepEqual(got.Warnings, want.Warnings) {
		t.Fatalf("table rejections %+v %q,\nwant %+v %q", got.Rejected, got.Warnings, want.Rejected, want.Warnings)
	}
	return want
}

// TestParallelReadMatchesSerial reads a file with every kind of bad row
// (bad cells, short rows, a bare quote, duplicates far apart, quoted line
// breaks) in chunks of a few records, so that chunk boundaries fall
// everywhere, and checks the result against the one-goroutine reader.
func TestParallelReadMatchesSerial(t *testing.T) {
	var b strings.Builder
	b.WriteString("account_id,account_name,week,owner,arr,logins,dau_mau,nps,goal_status,region,notes\n")
	weeks := []string{"2026-11-16", "2026-11-23", "2026-11-30"}
	for i := range 400 {
		id := "A-" + strconv.Itoa(i%90) // ids repeat: duplicates across chunks
		week := weeks[(i/90)%len(weeks)]
		switch i % 13 {
		case 1:
			b.WriteString(id + ",N,notadate,o,1,2,0.5,3,,x,\n")
		case 4:
			b.WriteString(id + ",N," + week + ",o\n")
		case 6:
			b.WriteString(id + ",\"Multi\nline\"," + week + ",o,1,2,0.5,3,on_track,x,\"a \"\"quoted\"\" note\"\n")
		case 9:
			b.WriteString(id + ",N" + `"` + "x," + week + ",o,1,2,0.5,3,,x,\n")
		case 11:
			b.WriteString(id + ",N," + week + ",o,1,2,1.5,3,,x,\n")
		default:
			b.WriteString(id + ",Name " + id + "," + week + ",own,1000," + strconv.Itoa(i) + ",0.4,7,at_risk,emea,\n")
		}
	}
	data := []byte(b.String())
	prev := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(prev)
	defer func(n int) { chunkRecords = n }(chunkRecords)
	for _, n := range []int{1, 3, 7, 64, 1024} {
		chunkRecords = n
		got := readBothWays(t, data, "mixed.csv")
		if len(got.Rows) < 100 || len(got.Rejected) < 100 {
			t.Fatalf("chunks of %d: %d rows, %d rejected: the test lost its bad rows", n, len(got.Rows), len(got.Rejected))
		}
	}
}
