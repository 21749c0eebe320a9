package snapshot

import (
	"bytes"
	"encoding/csv"
	"io"
	"os"
	"testing"
	"time"
)

// FuzzRead checks that no input makes the reader panic, and that every data
// row is accounted for exactly once: accepted or rejected, never both,
// never silently dropped; and that the reader gives the same whether it
// keeps the rows or hands them on.
//
//	go test ./snapshot/ -run '^$' -fuzz FuzzRead -fuzztime 60s
func FuzzRead(f *testing.F) {
	if seed, err := os.ReadFile("testdata/mixed.csv"); err == nil {
		f.Add(seed, uint8(0))
	}
	f.Add([]byte("account_id,account_name,week,owner,arr\nA,N,2026-11-16,d,1\nA,N,2026-11-17,d,1\n"), uint8(0))
	f.Add([]byte("account_id,week\n\"A,2026\n"), uint8(0))
	f.Add([]byte("a\"b,c\nx,y\n1,2,3\n"), uint8(0))
	f.Add([]byte(`[{"account_id":"A","account_name":"N","week":"2026-11-16","owner":"d","arr":1,"nps":3}, 5, {"x": [1, {"y": 2}]}]`), uint8(1))
	f.Add([]byte(`[{"account_id":"A"`), uint8(1))
	f.Add([]byte("{\"account_id\":\"A\",\"account_name\":\"N\",\"week\":\"2026-11-16\",\"owner\":\"d\",\"arr\":1}\n{bad\n\n[1]\n"), uint8(2))
	f.Add([]byte(`{"account_id":"A"} {"account_id":"B"}`), uint8(3))

	names := [...]string{"fuzz.csv", "fuzz.json", "fuzz.ndjson", "fuzz"}
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		name := names[int(kind)%len(names)]
		b, err := Read(bytes.NewReader(data), name)
		if err != nil {
			t.Fatalf("in-memory input gave an I/O error: %v", err)
		}
		readBothWays(t, data, name) // rows handed to a sink are read on several goroutines
		seen := map[int]int{}
		maxRow := 0
		for _, r := range b.Rows {
			seen[r.Source.Row]++
			maxRow = max(maxRow, r.Source.Row)
			if r.AccountID == "" || r.AccountName == "" || r.Owner == "" || r.ARR < 0 || r.Week.Weekday() != time.Monday {
				t.Fatalf("accepted an invalid row: %+v", r)
			}
			if r.DAUMAU.Known && (r.DAUMAU.V < 0 || r.DAUMAU.V > 1) || r.NPS.Known && (r.NPS.V < 0 || r.NPS.V > 10) || r.Logins.V < 0 {
				t.Fatalf("accepted an out-of-range value: %+v", r)
			}
		}
		for _, r := range b.Rejected {
			seen[r.Row]++
			maxRow = max(maxRow, r.Row)
			if r.File != name || r.Field == "" || r.Reason == "" {
				t.Fatalf("rejection without file, field or reason: %+v", r)
			}
		}
		first := 1
		if name == "fuzz.csv" || (name == "fuzz" && len(seen) > 0 && seen[1] == 0 && maxRow > 1) {
			first = 2 // CSV: the header is row 1
		}
		for row := first; row <= maxRow; row++ {
			if seen[row] != 1 {
				t.Fatalf("row %d accounted for %d times (rows %+v, rejected %+v)", row, seen[row], b.Rows, b.Rejected)
			}
		}
		if name == "fuzz.csv" {
			if want := countCSVRecords(data); maxRow-1 != want && !(want == 0 && maxRow == 0) {
				t.Fatalf("%d data records, but rows run to %d", want, maxRow)
			}
		}
	})
}

// countCSVRecords counts data records the way the reader sees them.
func countCSVRecords(data []byte) int {
	if bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}) {
		data = data[3:]
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	n := -1 // the header
	for {
		_, err := cr.Read()
		if err == io.EOF {
			return max(n, 0)
		}
		n++
	}
}
