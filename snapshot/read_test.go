package snapshot

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func date(s string) time.Time {
	t, ok := parseDate(s)
	if !ok {
		panic(s)
	}
	return t
}

func TestReadCSVValidatesEachRow(t *testing.T) {
	b, err := ReadFiles([]string{"testdata/mixed.csv"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range b.Rows {
		ids = append(ids, r.AccountID)
	}
	if want := []string{"A-1", "A-1", "A-11"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("accepted %v, want %v", ids, want)
	}
	type rej struct {
		row   int
		field string
		has   string
	}
	want := []rej{
		{4, "arr", "negative"},
		{5, "dau_mau", "outside [0,1]"},
		{6, "owner", "required"},
		{7, "week", "testdata/mixed.csv row 2"},
		{8, "logins", "not a whole number"},
		{9, "nps", "outside 0..10"},
		{10, "goal_status", "not one of"},
		{11, "champion_departed", "not a boolean"},
		{12, "week", "not a date"},
		{13, "arr", "4 cells, the header has 13"},
	}
	if len(b.Rejected) != len(want) {
		t.Fatalf("rejected %d rows, want %d: %+v", len(b.Rejected), len(want), b.Rejected)
	}
	for i, w := range want {
		got := b.Rejected[i]
		if got.File != "testdata/mixed.csv" || got.Row != w.row || got.Field != w.field || !strings.Contains(got.Reason, w.has) {
			t.Errorf("rejection %d = %+v, want row %d field %s reason containing %q", i, got, w.row, w.field, w.has)
		}
	}

	first := b.Rows[0]
	if !first.Week.Equal(date("2026-11-16")) || first.Week.Weekday() != time.Monday {
		t.Errorf("week %v not normalised to Monday", first.Week)
	}
	if !first.Logins.Known || first.Logins.V != 120 || first.NPS.V != 8 || first.ChampionDeparted.V || !first.ChampionDeparted.Known {
		t.Errorf("first row misread: %+v", first)
	}
	if first.Notes != `Quarterly review, went "fine"` || first.Extra["region"] != "emea" || first.Source.Row != 2 {
		t.Errorf("notes %q extra %v source %+v", first.Notes, first.Extra, first.Source)
	}
	second := b.Rows[1]
	if second.Logins.Known || second.NPS.Known {
		t.Error("empty cells must stay unknown")
	}
	if second.GoalStatus != GoalAtRisk || !second.ChampionDeparted.V {
		t.Errorf("second row: goal %q champion %v", second.GoalStatus, second.ChampionDeparted)
	}
	last := b.Rows[2]
	if last.Logins.V != 3 || !last.DAUMAU.Known || last.DAUMAU.V != 0 || last.GoalStatus != GoalOffTrack || !last.ChampionDeparted.V || last.ARR != 0 {
		t.Errorf("last row misread: %+v", last)
	}
	if n := strings.Count(strings.Join(b.Warnings, "\n"), `unknown column "region"`); n != 1 {
		t.Errorf("want one warning for the unknown column, got %d: %v", n, b.Warnings)
	}
}

func TestReadJSONArrayAndNDJSON(t *testing.T) {
	array := `[
	  {"account_id": "A-1", "account_name": "Northwind", "week": "2026-11-16", "owner": "dana", "arr": 1000, "logins": 12, "strategic": true, "language": "zh", "tier": "gold"},
	  {"account_id": "A-2", "account_name": "Contoso", "week": "2026-11-16T00:00:00Z", "owner": "lee", "arr": "2000", "dau_mau": null, "nps": 12},
	  {"account_id": "A-3", "account_name": "X", "week": "2026-11-16", "owner": "lee", "arr": 1, "logins": [1]},
	  {"ACCOUNT_ID": "A-4", "Account_Name": "Y", "Week": "2026-11-17", "Owner": "lee", "ARR": 3, "tier": "silver"}
	]`
	b, err := Read(strings.NewReader(array), "in.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Rows) != 2 || len(b.Rejected) != 2 {
		t.Fatalf("rows %d rejected %+v", len(b.Rows), b.Rejected)
	}
	if r := b.Rows[0]; !r.Strategic.V || r.Language != "zh" || r.Logins.V != 12 || r.Extra["tier"] != `gold` || r.Source.Row != 1 {
		t.Errorf("row 1 misread: %+v", r)
	}
	if r := b.Rows[1]; r.AccountID != "A-4" || r.Source.Row != 4 || !r.Week.Equal(date("2026-11-16")) {
		t.Errorf("row 4 misread: %+v", r)
	}
	if r := b.Rejected[0]; r.Row != 2 || r.Field != "nps" {
		t.Errorf("rejection %+v", r)
	}
	if r := b.Rejected[1]; r.Row != 3 || r.Field != "logins" || !strings.Contains(r.Reason, "array") {
		t.Errorf("rejection %+v", r)
	}
	if len(b.Warnings) != 1 {
		t.Errorf("want one warning for the unknown field tier, got %v", b.Warnings)
	}

	nd := `{"account_id": "A-1", "account_name": "N", "week": "2026-11-16", "owner": "d", "arr": 1}
{"account_id": "A-2", "account_name": "N", "week": "2026-11-16", "owner": "d", "arr": 1,

{"account_id": "A-3", "account_name": "N", "week": "2026-11-16", "owner": "d", "arr": 1}
`
	b, err = Read(strings.NewReader(nd), "in.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Rows) != 2 || len(b.Rejected) != 1 || b.Rejected[0].Row != 2 || b.Rows[1].Source.Row != 3 {
		t.Errorf("ndjson: rows %+v rejected %+v", b.Rows, b.Rejected)
	}
}

func TestDuplicatesAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.csv")
	c := filepath.Join(dir, "c.json")
	os.WriteFile(a, []byte("account_id,account_name,week,owner,arr\nA-1,N,2026-11-16,d,1\nA-1,N,2026-11-09,d,1\n"), 0o644)
	os.WriteFile(c, []byte(`[{"account_id":"A-1","account_name":"N","week":"2026-11-11","owner":"d","arr":1}]`), 0o644)
	b, err := ReadFiles([]string{a, c})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Rows) != 2 || len(b.Rejected) != 1 {
		t.Fatalf("rows %d rejected %+v", len(b.Rows), b.Rejected)
	}
	r := b.Rejected[0]
	if r.File != c || r.Row != 1 || r.Field != "week" || !strings.Contains(r.Reason, a+" row 3") {
		t.Errorf("rejection %+v", r)
	}
}

func TestReadFilesMissingFileNamesIt(t *testing.T) {
	_, err := ReadFiles([]string{"testdata/nope.csv"})
	if err == nil || !strings.Contains(err.Error(), "testdata/nope.csv") {
		t.Fatalf("err = %v", err)
	}
}

func TestSniffingWithoutExtension(t *testing.T) {
	b, err := Read(strings.NewReader("\n  [{\"account_id\":\"A\",\"account_name\":\"N\",\"week\":\"2026-11-16\",\"owner\":\"d\",\"arr\":1}]"), "stdin")
	if err != nil || len(b.Rows) != 1 {
		t.Fatalf("json sniff: %v %+v", err, b)
	}
	b, err = Read(strings.NewReader("\uFEFFaccount_id,account_name,week,owner,arr\nA,N,2026-11-16,d,1\n"), "stdin")
	if err != nil || len(b.Rows) != 1 {
		t.Fatalf("csv sniff with BOM: %v %+v", err, b)
	}
	b, err = Read(strings.NewReader(""), "empty.csv")
	if err != nil || len(b.Rows) != 0 || len(b.Warnings) != 1 {
		t.Fatalf("empty: %v %+v", err, b)
	}
}

func TestWriteCSVRoundTrips(t *testing.T) {
	b, err := ReadFiles([]string{"testdata/mixed.csv"})
	if err != nil {
		t.Fatal(err)
	}
	rows := b.Rows
	rows[0].RenewalDate = Some(date("2027-02-01"))
	rows[0].LastExecContact = Some(date("2026-10-01"))
	rows[0].FeatureAdoption = Some(0.125)
	rows[0].Strategic = Some(true)
	rows[0].Language = "de"
	var buf bytes.Buffer
	if err := WriteCSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	back, err := Read(&buf, "round.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Rejected) != 0 || len(back.Rows) != len(rows) {
		t.Fatalf("round trip: %+v", back.Rejected)
	}
	for i := range rows {
		want, got := rows[i], back.Rows[i]
		want.Source, got.Source = Source{}, Source{}
		if !reflect.DeepEqual(want, got) {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
}

// TestExtensionColumns reads the optional columns of model 1.4 from CSV
// and JSON, rejects a bad value naming its column, and writes them back
// only when a row knows one: a v1 book is written as before.
func TestExtensionColumns(t *testing.T) {
	in := "account_id,account_name,week,owner,arr,tickets_opened,Last_Login_Date,nps_survey_sent,meetings_missed\n" +
		"A-1,N,2026-11-16,d,1,4,2026-11-12,2026-10-20,2\n" +
		"A-2,N,2026-11-16,d,1,,,,\n" +
		"A-3,N,2026-11-16,d,1,-1,,,\n" +
		"A-4,N,2026-11-16,d,1,,2026-13-01,,\n"
	b, err := Read(strings.NewReader(in), "ext.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Rows) != 2 || len(b.Rejected) != 2 || len(b.Warnings) != 0 {
		t.Fatalf("rows %d rejected %+v warnings %v", len(b.Rows), b.Rejected, b.Warnings)
	}
	r := b.Rows[0]
	if r.TicketsOpened != Some(4) || r.MeetingsMissed != Some(2) || r.LastLoginDate != Some(date("2026-11-12")) || r.NPSSurveySent != Some(date("2026-10-20")) {
		t.Errorf("row 1 misread: %+v", r)
	}
	if r := b.Rows[1]; r.TicketsOpened.Known || r.LastLoginDate.Known || r.NPSSurveySent.Known || r.MeetingsMissed.Known {
		t.Errorf("empty cells read as known: %+v", r)
	}
	if r := b.Rejected[0]; r.Row != 4 || r.Field != "tickets_opened" || !strings.Contains(r.Reason, "negative") {
		t.Errorf("rejection %+v", r)
	}
	if r := b.Rejected[1]; r.Row != 5 || r.Field != "last_login_date" || !strings.Contains(r.Reason, "not a date") {
		t.Errorf("rejection %+v", r)
	}
	js, err := Read(strings.NewReader(`{"account_id":"A-1","account_name":"N","week":"2026-11-16","owner":"d","arr":1,"tickets_opened":4,"meetings_missed":null,"nps_survey_sent":"2026-10-20"}`), "ext.ndjson")
	if err != nil || len(js.Rows) != 1 || js.Rows[0].TicketsOpened != Some(4) || js.Rows[0].MeetingsMissed.Known || js.Rows[0].NPSSurveySent != Some(date("2026-10-20")) {
		t.Fatalf("json: %v %+v", err, js)
	}

	var buf bytes.Buffer
	if err := WriteCSV(&buf, b.Rows[1:]); err != nil {
		t.Fatal(err)
	}
	if header, _, _ := strings.Cut(buf.String(), "\n"); strings.Contains(header, "tickets_opened") || !strings.HasSuffix(header, ",strategic,language") {
		t.Errorf("a book without the optional columns was written with header %q", header)
	}
	buf.Reset()
	if err := WriteCSV(&buf, b.Rows); err != nil {
		t.Fatal(err)
	}
	back, err := Read(&buf, "round.csv")
	if err != nil || len(back.Rejected) != 0 || len(back.Rows) != 2 {
		t.Fatalf("round trip: %v %+v", err, back.Rejected)
	}
	for i := range back.Rows {
		want, got := b.Rows[i], back.Rows[i]
		want.Source, got.Source = Source{}, Source{}
		if !reflect.DeepEqual(want, got) {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	// Unknown, they stay out of a row's JSON.
	j, err := json.Marshal(b.Rows[1])
	if err != nil || strings.Contains(string(j), "tickets_opened") {
		t.Errorf("json of a row without the optional columns: %s %v", j, err)
	}
}

func TestMonday(t *testing.T) {
	for in, want := range map[string]string{
		"2026-11-16": "2026-11-16", "2026-11-22": "2026-11-16", "2026-11-23": "2026-11-23",
		"2027-01-01": "2026-12-28", "2024-02-29": "2024-02-26", "1969-12-31": "1969-12-29",
	} {
		if got := FormatDate(Monday(date(in))); got != want {
			t.Errorf("Monday(%s) = %s, want %s", in, got, want)
		}
	}
	local := time.Date(2026, 11, 22, 23, 0, 0, 0, time.FixedZone("x", -8*3600))
	if got := FormatDate(Monday(local)); got != "2026-11-16" {
		t.Errorf("a local Sunday evening moved weeks: %s", got)
	}
	for _, bad := range []string{"2026-13-01", "2026-02-29", "2026-1-01", "26-11-16", "2026/11/16", ""} {
		if _, ok := parseDate(bad); ok {
			t.Errorf("parseDate(%q) accepted", bad)
		}
	}
}

// parseSimpleDecimal must give exactly what strconv.ParseFloat gives, or
// step aside.
func TestParseSimpleDecimalMatchesParseFloat(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	cases := []string{"0", "0.0", "1", "0.345", ".5", "5.", "123456789012345", "0.1", "0.7", "1.15", "9007199254740993",
		"1234567890123456", "0.30000000000000004", "", ".", "1.2.3", "-1", "+1", "1e3", "0x10", "1_000", " 1", "１"}
	for range 200000 {
		intDigits, fracDigits := rnd.IntN(9), rnd.IntN(9)
		b := make([]byte, 0, 20)
		for range intDigits {
			b = append(b, byte('0'+rnd.IntN(10)))
		}
		if rnd.IntN(4) > 0 {
			b = append(b, '.')
			for range fracDigits {
				b = append(b, byte('0'+rnd.IntN(10)))
			}
		}
		cases = append(cases, string(b))
	}
	for _, c := range cases {
		got, ok := parseSimpleDecimal(c)
		want, err := strconv.ParseFloat(c, 64)
		if ok && (err != nil || got != want) {
			t.Fatalf("%q: fast path %v, ParseFloat %v %v", c, got, want, err)
		}
		digits := len(c) - strings.Count(c, ".")
		if !ok && err == nil && digits <= 15 && strings.Count(c, ".") <= 1 && len(strings.Trim(c, "0123456789.")) == 0 {
			t.Fatalf("%q: a simple decimal the fast path refused", c)
		}
	}
}

func TestTrimSpaceMatchesBytes(t *testing.T) {
	for _, c := range []string{"", " ", "a", " a", "a ", "\ta\r", "\u00a0a", "a\u00a0", "\u2003x\u2003", "é", "\x85a", "a\x85", "ab cd", "\v\f"} {
		if got, want := trimSpace([]byte(c)), bytes.TrimSpace([]byte(c)); !bytes.Equal(got, want) {
			t.Errorf("%q: got %q, want %q", c, got, want)
		}
	}
}
