package snapshot

import (
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// TestTableKeepsEveryField sets each field of a Snapshot in turn, found by
// reflection so that a field added later is covered too, and checks that
// the table gives the row back unchanged.
func TestTableKeepsEveryField(t *testing.T) {
	base := Snapshot{AccountID: "A", AccountName: "Acme", Week: date("2026-11-16"), Owner: "dana", ARR: 1200,
		Source: Source{File: "in.csv", Row: 2}}
	var rows []Snapshot
	typ := reflect.TypeOf(base)
	for i := 0; i < typ.NumField(); i++ {
		s := base
		v := reflect.ValueOf(&s).Elem().Field(i)
		switch v.Interface().(type) {
		case string:
			v.SetString("text " + typ.Field(i).Name)
		case float64:
			v.SetFloat(0.25)
		case time.Time:
			v.Set(reflect.ValueOf(date("2026-11-23")))
		case Opt[int]:
			v.Set(reflect.ValueOf(Some(7)))
		case Opt[float64]:
			v.Set(reflect.ValueOf(Some(0.5)))
		case Opt[bool]:
			v.Set(reflect.ValueOf(Some(true)))
		case Opt[time.Time]:
			v.Set(reflect.ValueOf(Some(date("2027-01-04"))))
		case map[string]string:
			v.Set(reflect.ValueOf(map[string]string{"region": "emea"}))
		case Source:
			v.Set(reflect.ValueOf(Source{File: "other.csv", Row: 99}))
		default:
			t.Fatalf("field %s has a type the test does not know: teach it and Table", typ.Field(i).Name)
		}
		if typ.Field(i).Name == "GoalStatus" {
			s.GoalStatus = GoalOffTrack
		}
		rows = append(rows, s)
	}
	// Values that do not fit the compact form are kept whole.
	odd := base
	odd.Logins = Some(math.MaxInt64)
	rows = append(rows, odd)
	odd = base
	odd.RenewalDate = Some(time.Date(2026, 5, 1, 9, 30, 0, 0, time.FixedZone("X", 3600)))
	rows = append(rows, odd)
	odd = base
	odd.NPS = Opt[int]{V: 3} // unknown but not zero
	odd.GoalStatus = "someday"
	rows = append(rows, odd, Snapshot{AccountID: "A"}, Snapshot{Week: time.Now()})
	odd = base
	odd.Strategic = Opt[bool]{V: true}
	odd.DAUMAU = Opt[float64]{V: 0.3}
	rows = append(rows, odd)
	odd = base
	odd.LastLoginDate = Some(time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC))
	odd.MeetingsMissed = Some(2)
	rows = append(rows, odd)
	odd = base
	odd.TicketsOpened = Opt[int]{V: 3}
	rows = append(rows, odd, base)

	tab := TableOf(rows)
	if tab.Len() != len(rows) || tab.Accounts() != 3 { // A, "text AccountID" and ""
		t.Fatalf("%d rows, %d accounts", tab.Len(), tab.Accounts())
	}
	for i := range rows {
		var got Snapshot
		tab.Row(i, &got)
		if !reflect.DeepEqual(got, rows[i]) {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, got, rows[i])
		}
		if tab.WeekDay(i) != dayNumber(rows[i].Week) {
			t.Errorf("row %d: week day %d", i, tab.WeekDay(i))
		}
		usage := Snapshot{Notes: "left as it was"}
		tab.RowUsage(i, &usage)
		want := Snapshot{Notes: "left as it was", Week: rows[i].Week, Language: rows[i].Language, Logins: rows[i].Logins,
			ActiveUsers: rows[i].ActiveUsers, DAUMAU: rows[i].DAUMAU, FeatureAdoption: rows[i].FeatureAdoption}
		if !reflect.DeepEqual(usage, want) {
			t.Errorf("row %d usage:\n got %+v\nwant %+v", i, usage, want)
		}
	}
	var latest int64
	for i := range rows {
		latest = max(latest, dayNumber(rows[i].Week))
	}
	if got := tab.LatestWeek(); !got.Equal(dayTime(latest)) {
		t.Errorf("latest week %v, want %v", got, dayTime(latest))
	}
	if size := unsafe.Sizeof(packedRow{}); size > 144 {
		t.Errorf("a packed row takes %d bytes", size)
	}
}

func TestReadTableMatchesReadFiles(t *testing.T) {
	paths := []string{"testdata/mixed.csv"}
	want, err := ReadFiles(paths)
	if err != nil {
		t.Fatal(err)
	}
	tab, b, err := ReadTable(paths)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Rows) != 0 || !reflect.DeepEqual(b.Rejected, want.Rejected) || !reflect.DeepEqual(b.Warnings, want.Warnings) {
		t.Errorf("stream batch %+v, want rejections %+v", b, want.Rejected)
	}
	if tab.Len() != len(want.Rows) {
		t.Fatalf("%d rows, want %d", tab.Len(), len(want.Rows))
	}
	for i := range want.Rows {
		var got Snapshot
		tab.Row(i, &got)
		if !reflect.DeepEqual(got, want.Rows[i]) {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, got, want.Rows[i])
		}
	}
}

// TestRowsOutliveTheReadBuffer overwrites the splitter's buffer after
// reading: no accepted row may change, since set keeps only copies of the
// transient cell strings.
func TestRowsOutliveTheReadBuffer(t *testing.T) {
	in := "account_id,account_name,week,owner,arr,notes,success_goal,language,region\n" +
		"A-1,Acme,2026-11-16,dana,1200,call went well,grow seats,en,emea\n" +
		"A-2,\"Beta, Inc\",2026-11-16,lee,300,\"said \"\"later\"\"\",,de,apac\n"
	rd := newReader()
	rd.files = append(rd.files, "in.csv")
	var sp *csvSplitter
	if err := rd.readCSVWith(strings.NewReader(in), "in.csv", 0, func(s *csvSplitter) { sp = s }); err != nil {
		t.Fatal(err)
	}
	before := make([]Snapshot, len(rd.batch.Rows))
	copy(before, rd.batch.Rows)
	want := []string{}
	for _, r := range before {
		want = append(want, strings.Join([]string{r.AccountID, r.AccountName, r.Owner, r.Notes, r.SuccessGoal, r.Language, r.Extra["region"]}, "|"))
	}
	for i := range sp.buf {
		sp.buf[i] = 'X'
	}
	for i := range sp.record {
		sp.record[i] = 'X'
	}
	for i, r := range rd.batch.Rows {
		got := strings.Join([]string{r.AccountID, r.AccountName, r.Owner, r.Notes, r.SuccessGoal, r.Language, r.Extra["region"]}, "|")
		if got != want[i] {
			t.Errorf("row %d changed with the buffer: %q, was %q", i, got, want[i])
		}
	}
	if len(rd.batch.Rows) != 2 || want[1] != `A-2|Beta, Inc|lee|said "later"||de|apac` {
		t.Errorf("rows %q, rejected %+v", want, rd.batch.Rejected)
	}
}

// TestGrowSoonKeepsRows adds rows while a larger array is being made on
// another goroutine, as ReadTable does for a large file: the rows must
// come through the move into it unchanged.
func TestGrowSoonKeepsRows(t *testing.T) {
	tab := NewTable()
	want := make([]Snapshot, 3000)
	for i := range want {
		want[i] = Snapshot{AccountID: "A-" + strconv.Itoa(i/7), AccountName: "N", Owner: "o", ARR: float64(i),
			Week: dayTime(mondayOf(20000 + int64(7*(i%7)))), Source: Source{File: "f.csv", Row: i + 2}}
		if i == 10 {
			tab.growSoon(5000)
			// Wait for the array here, before any append can take it, so
			// that the move surely happens at the next full array.
			big := <-tab.bigger
			tab.bigger <- big
		}
		tab.Add(&want[i])
	}
	if cap(tab.rows) < 5000 {
		t.Errorf("the rows never moved into the larger array: capacity %d", cap(tab.rows))
	}
	for i := range want {
		var got Snapshot
		tab.Row(i, &got)
		if !reflect.DeepEqual(got, want[i]) {
			t.Fatalf("row %d:\n got %+v\nwant %+v", i, got, want[i])
		}
	}
}

func TestAccountRows(t *testing.T) {
	ids := []string{"A", "B", "A", "C", "B", "A"}
	var rows []Snapshot
	for i, id := range ids {
		rows = append(rows, Snapshot{AccountID: id, Week: dayTime(mondayOf(20000 + int64(7*i)))})
	}
	tab := TableOf(rows)
	want := map[string][]int32{"A": {0, 2, 5}, "B": {1, 4}, "C": {3}}
	for a := range tab.Accounts() {
		id := tab.AccountID(a)
		got := tab.AccountRows(a, []int32{-1})
		if !reflect.DeepEqual(got[1:], want[id]) || got[0] != -1 || tab.AccountLen(a) != len(want[id]) {
			t.Errorf("account %s: rows %v, len %d; want %v", id, got, tab.AccountLen(a), want[id])
		}
	}
}
