package snapshot

import (
	"strings"
	"testing"
)

// TestReaderRefusesIDsThatCannotNameAReview: an account_id or owner that
// cannot be part of a workflow ID or page path is refused at ingest, by
// file, row and field, in CSV and NDJSON alike; the other rows go through.
func TestReaderRefusesIDsThatCannotNameAReview(t *testing.T) {
	long := strings.Repeat("x", maxIdentBytes+1)
	cases := []struct{ field, id, owner, reason string }{
		{"account_id", "A/1", "dana", `contains "/"`},
		{"owner", "A-1", "sales/emea", `contains "/"`},
		{"account_id", "A\x01-1", "dana", `control character '\x01'`},
		{"owner", "A-1", "da\tna", `control character '\t'`},
		{"account_id", long, "dana", "201 bytes, more than the 200-byte limit"},
		{"owner", "A-1", long, "201 bytes, more than the 200-byte limit"},
	}
	for _, tc := range cases {
		csv := "account_id,account_name,week,owner,arr\n" +
			"A-0,N,2026-11-23,dana,1\n" +
			tc.id + ",N,2026-11-23," + tc.owner + ",1\n"
		nd := `{"account_id":"A-0","account_name":"N","week":"2026-11-23","owner":"dana","arr":1}` + "\n" +
			`{"account_id":` + jsonString(tc.id) + `,"account_name":"N","week":"2026-11-23","owner":` + jsonString(tc.owner) + `,"arr":1}` + "\n"
		// Rows are the file's lines: the CSV's header is line 1.
		for name, b := range map[string]Batch{
			"ids.csv":    readBothWays(t, []byte(csv), "ids.csv"),
			"ids.ndjson": mustRead(t, nd, "ids.ndjson"),
		} {
			row := map[string]int{"ids.csv": 3, "ids.ndjson": 2}[name]
			if len(b.Rejected) != 1 || b.Rejected[0].File != name || b.Rejected[0].Row != row ||
				b.Rejected[0].Field != tc.field || !strings.Contains(b.Rejected[0].Reason, tc.reason) {
				t.Errorf("%s with %s %q: rejected %+v, want row %d %s refused: %s", name, tc.field, tc.id+" "+tc.owner, b.Rejected, row, tc.field, tc.reason)
			}
			if len(b.Rows) != 1 || b.Rows[0].AccountID != "A-0" {
				t.Errorf("%s: rows %+v, want A-0 alone", name, b.Rows)
			}
		}
	}
}

func mustRead(t *testing.T, data, name string) Batch {
	t.Helper()
	b, err := Read(strings.NewReader(data), name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r < 0x20 {
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[r>>4])
			b.WriteByte("0123456789abcdef"[r&15])
			continue
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}
