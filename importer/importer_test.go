package importer

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
)

func day(s string) time.Time {
	t, ok := snapshot.ParseDate(s)
	if !ok {
		panic(s)
	}
	return t
}

func TestRavenStackFixture(t *testing.T) {
	res, err := RavenStack("testdata/ravenstack", RavenStackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := "testdata/ravenstack"
	f := func(name string) string { return filepath.Join(dir, name) }
	wantRej := []snapshot.Rejection{
		{File: f(RavenAccounts), Row: 4, Field: "account_id", Reason: "required field is empty"},
		{File: f(RavenAccounts), Row: 5, Field: "account_id", Reason: `account "A-1" already given at row 2`},
		{File: f(RavenSubscriptions), Row: 5, Field: "account_id", Reason: `unknown account "A-9" (not in ravenstack_accounts.csv)`},
		{File: f(RavenSubscriptions), Row: 6, Field: "start_date", Reason: `"2024-13-01" is not a date (YYYY-MM-DD)`},
		{File: f(RavenUsage), Row: 6, Field: "subscription_id", Reason: `unknown subscription "S-404" (not in ravenstack_subscriptions.csv)`},
		{File: f(RavenUsage), Row: 7, Field: "error_count", Reason: `"x" is not a number`},
		{File: f(RavenTickets), Row: 5, Field: "submitted_at", Reason: `"yesterday" is not a date (YYYY-MM-DD)`},
		{File: f(RavenChurn), Row: 4, Field: "account_id", Reason: `unknown account "A-7" (not in ravenstack_accounts.csv)`},
	}
	if !reflect.DeepEqual(res.Rejected, wantRej) {
		t.Errorf("rejections:\n got %+v\nwant %+v", res.Rejected, wantRej)
	}
	if want := map[string]time.Time{"A-2": day("2024-01-19")}; !reflect.DeepEqual(res.Churn, want) {
		t.Errorf("churn %v, want %v (the first of A-2's two events)", res.Churn, want)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "1 churn events are repeat churns") {
		t.Errorf("warnings %q", res.Warnings)
	}
	type view struct {
		id, week                       string
		arr                            float64
		seats                          snapshot.Opt[int]
		renewal                        string
		downgrade                      bool
		logins, errors                 int
		adoption                       float64
		open, urgent, oldest, escalate int
	}
	var got []view
	for _, s := range res.Rows {
		renewal := ""
		if s.RenewalDate.Known {
			renewal = snapshot.FormatDate(s.RenewalDate.V)
		}
		if s.Owner != "unassigned" || s.ActiveUsers.Known || s.DAUMAU.Known || s.NPS.Known {
			t.Errorf("%s %s: owner %q, or a field the export lacks is known", s.AccountID, snapshot.FormatDate(s.Week), s.Owner)
		}
		got = append(got, view{s.AccountID, snapshot.FormatDate(s.Week), s.ARR, s.LicensedSeats, renewal,
			s.DowngradeRequested.V, s.Logins.V, s.IntegrationErrors.V, s.FeatureAdoption.V,
			s.OpenTickets.V, s.CriticalOpenTickets.V, s.OldestOpenTicketDays.V, s.Escalations.V})
	}
	some := snapshot.Some[int]
	want := []view{
		{"A-1", "2024-01-01", 12000, some(10), "2025-01-01", false, 2, 2, 0.667, 1, 1, 4, 1},
		{"A-1", "2024-01-08", 12000, some(10), "2025-01-01", false, 0, 0, 0.667, 2, 1, 11, 0},
		{"A-1", "2024-01-15", 6000, some(6), "2025-01-17", true, 1, 1, 0.667, 2, 1, 18, 0},
		{"A-2", "2024-01-08", 1200, some(5), "", false, 1, 0, 0.333, 0, 0, 0, 0},
		{"A-2", "2024-01-15", 1200, some(5), "", false, 0, 0, 0.333, 0, 0, 0, 0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows:\n got %+v\nwant %+v", got, want)
	}
	if res.Rows[0].Language != "de" || res.Rows[0].Extra["country"] != "DE" || res.Rows[2].Extra["plan_tier"] != "Basic" {
		t.Errorf("context of first row: %+v", res.Rows[0])
	}
	// What the importer writes reads back as valid snapshots.
	var buf bytes.Buffer
	if err := snapshot.WriteCSV(&buf, res.Rows); err != nil {
		t.Fatal(err)
	}
	b, err := snapshot.Read(&buf, "out.csv")
	if err != nil || len(b.Rejected) != 0 || len(b.Rows) != len(res.Rows) {
		t.Fatalf("read back: %v, %d rejected, %d rows", err, len(b.Rejected), len(b.Rows))
	}
}

func TestRavenStackMissingFile(t *testing.T) {
	_, err := RavenStack(t.TempDir(), RavenStackOptions{})
	if err == nil || !strings.Contains(err.Error(), RavenAccounts) {
		t.Fatalf("err = %v, want it to name %s", err, RavenAccounts)
	}
}

// The real export (shared/data/ravenstack, about 2 MB) goes through whole.
func TestRavenStackRealExport(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "data", "ravenstack")
	if _, err := os.Stat(filepath.Join(dir, RavenAccounts)); err != nil {
		t.Skipf("real export not here: %v", err)
	}
	res, err := RavenStack(dir, RavenStackOptions{Owner: "dana"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rejected) != 0 {
		t.Errorf("%d rejections, first %+v", len(res.Rejected), res.Rejected[0])
	}
	ids := map[string]bool{}
	for _, r := range res.Rows {
		ids[r.AccountID] = true
	}
	// 500 accounts; 352 with churn events (SOURCE.md).
	if len(ids) != 500 || len(res.Churn) != 352 {
		t.Errorf("%d accounts, %d churners; want 500 and 352", len(ids), len(res.Churn))
	}
	last := res.Rows[len(res.Rows)-1].Week
	if got := snapshot.FormatDate(last); got != "2024-12-30" {
		t.Errorf("last week %s, want 2024-12-30", got)
	}
}

func TestReadEvents(t *testing.T) {
	usage, rej, warn, err := ReadEvents("testdata/events.csv")
	if err != nil {
		t.Fatal(err)
	}
	wantRej := []snapshot.Rejection{
		{File: "testdata/events.csv", Row: 8, Field: "account_id", Reason: "required field is empty"},
		{File: "testdata/events.csv", Row: 9, Field: "user_id", Reason: "required field is empty"},
		{File: "testdata/events.csv", Row: 10, Field: "timestamp", Reason: `"05/01/2026" is not a timestamp (RFC 3339 or YYYY-MM-DD HH:MM:SS)`},
	}
	if !reflect.DeepEqual(rej, wantRej) {
		t.Errorf("rejections:\n got %+v\nwant %+v", rej, wantRej)
	}
	if len(warn) != 0 {
		t.Errorf("warnings %q", warn)
	}
	u := func(id, w string, logins, active int, dm float64) Usage {
		return Usage{AccountID: id, Week: day(w), Logins: logins, ActiveUsers: active, DAUMAU: snapshot.Some(dm)}
	}
	want := []Usage{
		u("A-1", "2026-01-05", 3, 2, 0.214), // 3 user-days / 7 days / 2 monthly actives
		u("A-1", "2026-01-12", 0, 0, 0),     // a quiet week inside the log is a known zero
		u("A-1", "2026-01-19", 1, 1, 0.071),
		u("A-2", "2026-01-12", 1, 1, 0.143),
		u("A-2", "2026-01-19", 0, 0, 0),
	}
	if !reflect.DeepEqual(usage, want) {
		t.Errorf("usage:\n got %+v\nwant %+v", usage, want)
	}
}

func TestEventsWithoutLoginsCountSessions(t *testing.T) {
	in := "account_id,user_id,timestamp,event\nA,u1,2026-01-05,view\nA,u1,2026-01-05,edit\nA,u2,2026-01-06,view\n"
	usage, _, warn, err := readEvents(strings.NewReader(in), "e.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(usage) != 1 || usage[0].Logins != 2 || usage[0].ActiveUsers != 2 {
		t.Errorf("usage %+v, want 2 sessions by 2 users", usage)
	}
	if len(warn) != 1 || !strings.Contains(warn[0], "sessions") {
		t.Errorf("warnings %q", warn)
	}
}

func TestMergeWithAccountList(t *testing.T) {
	usage, _, _, err := ReadEvents("testdata/events.csv")
	if err != nil {
		t.Fatal(err)
	}
	b, err := ReadAccounts("testdata/accounts.csv", UsageWeeks(usage))
	if err != nil {
		t.Fatal(err)
	}
	wantRej := []snapshot.Rejection{{File: "testdata/accounts.csv", Row: 3, Field: "owner", Reason: "required field is empty"}}
	if !reflect.DeepEqual(b.Rejected, wantRej) {
		t.Errorf("rejections %+v, want %+v", b.Rejected, wantRej)
	}
	rows, warn := MergeUsage(b.Rows, usage)
	if len(rows) != 3 {
		t.Fatalf("%d rows, want A-1 in 3 weeks", len(rows))
	}
	for i, wantLogins := range []int{3, 0, 1} {
		r := rows[i]
		if r.AccountName != "Northwind Freight" || r.Owner != "dana" || r.ARR != 84000 || r.Logins != snapshot.Some(wantLogins) {
			t.Errorf("row %d: %+v", i, r)
		}
	}
	if len(warn) != 1 || !strings.Contains(warn[0], "2 account-weeks") || !strings.Contains(warn[0], "A-2") {
		t.Errorf("warnings %q, want the 2 weeks of A-2 reported", warn)
	}
	var buf bytes.Buffer
	if err := WriteUsageCSV(&buf, usage[:1]); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "account_id,week,logins,active_users,dau_mau\nA-1,2026-01-05,3,2,0.214\n" {
		t.Errorf("partial CSV %q", got)
	}
}

func TestWriteChurnCSV(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteChurnCSV(&buf, map[string]time.Time{"B": day("2024-02-01"), "A": day("2024-01-19")}); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "account_id,churn_date\nA,2024-01-19\nB,2024-02-01\n" {
		t.Errorf("got %q", got)
	}
}
