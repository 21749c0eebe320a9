package snapshot

import (
	"bytes"
	"strings"
	"testing"
)

// TestContactEmailColumn: the optional contact_email column is read from
// CSV and JSON, kept by every reader (streamed, into a table), written back,
// and a book without it reads and writes as before.
func TestContactEmailColumn(t *testing.T) {
	in := "account_id,account_name,week,owner,arr,contact_email\n" +
		"A-1,N,2026-11-09,d,1, ana@acme.example \n" +
		"A-1,N,2026-11-16,d,1,Ana Lima <ana@acme.example>\n" +
		"A-2,M,2026-11-16,d,1,\n"
	b := readBothWays(t, []byte(in), "contact.csv")
	if len(b.Rows) != 3 || b.Rows[0].ContactEmail != "ana@acme.example" || b.Rows[1].ContactEmail != "Ana Lima <ana@acme.example>" || b.Rows[2].ContactEmail != "" {
		t.Fatalf("rows %+v rejected %+v", b.Rows, b.Rejected)
	}
	js, err := Read(strings.NewReader(`{"account_id":"A-1","account_name":"N","week":"2026-11-16","owner":"d","arr":1,"contact_email":"ana@acme.example"}`), "c.ndjson")
	if err != nil || len(js.Rows) != 1 || js.Rows[0].ContactEmail != "ana@acme.example" {
		t.Fatalf("json: %v %+v", err, js)
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, b.Rows); err != nil {
		t.Fatal(err)
	}
	back, err := Read(&buf, "round.csv")
	if err != nil || len(back.Rows) != 3 || back.Rows[1].ContactEmail != b.Rows[1].ContactEmail {
		t.Fatalf("round trip: %v %+v", err, back.Rows)
	}
	buf.Reset()
	if err := WriteCSV(&buf, b.Rows[2:]); err != nil {
		t.Fatal(err)
	}
	if header, _, _ := strings.Cut(buf.String(), "\n"); strings.Contains(header, "contact_email") {
		t.Errorf("a book without contact emails was written with header %q", header)
	}
}
