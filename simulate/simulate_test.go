package simulate

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/snapshot"
)

func testOptions(seed int64) Options {
	return Options{Accounts: 80, Weeks: 40, Start: time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC), Seed: seed}
}

func TestPortfolioIsDeterministic(t *testing.T) {
	a, ca := Portfolio(testOptions(3))
	b, cb := Portfolio(testOptions(3))
	if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(ca, cb) {
		t.Fatal("same options produced different portfolios")
	}
	c, _ := Portfolio(testOptions(4))
	if reflect.DeepEqual(a, c) {
		t.Fatal("different seeds produced the same portfolio")
	}
}

func TestPortfolioShape(t *testing.T) {
	opts := testOptions(11)
	rows, churn := Portfolio(opts)
	byAccount := map[string][]snapshot.Snapshot{}
	for _, r := range rows {
		byAccount[r.AccountID] = append(byAccount[r.AccountID], r)
		if r.Week.Weekday() != time.Monday {
			t.Fatalf("%s: week %s is not a Monday", r.AccountID, r.Week)
		}
		if r.Owner == "" || r.AccountName == "" || r.ARR <= 0 {
			t.Fatalf("%s: required field missing: %+v", r.AccountID, r)
		}
	}
	if len(byAccount) != opts.Accounts {
		t.Fatalf("got %d accounts, want %d", len(byAccount), opts.Accounts)
	}
	if want := 12; len(churn) != want { // 15% of 80
		t.Fatalf("got %d churners, want %d", len(churn), want)
	}
	quiet := 0
	for _, c := range churn {
		hist := byAccount[c.AccountID]
		last := hist[len(hist)-1].Week
		if !last.Before(snapshot.Monday(c.Date)) {
			t.Errorf("%s: rows continue to %s, past churn on %s", c.AccountID, last.Format(time.DateOnly), c.Date.Format(time.DateOnly))
		}
		if c.Quiet {
			quiet++
			continue
		}
		if len(c.Patterns) < 2 {
			t.Errorf("%s: warning churner with patterns %v", c.AccountID, c.Patterns)
		}
		if weeks := int(c.Date.Sub(c.Onset).Hours() / 24 / 7); weeks < 4 || weeks > 17 {
			t.Errorf("%s: onset %d weeks before churn", c.AccountID, weeks)
		}
	}
	// Languages, owners and unknown cells all appear.
	langs, owners, unknownNPS, hostile := map[string]bool{}, map[string]bool{}, 0, 0
	for _, r := range rows {
		langs[r.Language] = true
		owners[r.Owner] = true
		if !r.NPS.Known {
			unknownNPS++
		}
		if r.Notes == HostileNote {
			hostile++
		}
	}
	for _, l := range []string{"en", "de", "fr", "zh"} {
		if !langs[l] {
			t.Errorf("no %s account", l)
		}
	}
	if len(owners) < 4 {
		t.Errorf("only %d owners", len(owners))
	}
	if unknownNPS == 0 || unknownNPS == len(rows) {
		t.Errorf("NPS unknown in %d of %d rows; want some but not all", unknownNPS, len(rows))
	}
	if hostile != 1 {
		t.Errorf("hostile note appears %d times, want once", hostile)
	}
}

// The Christmas week is a trap for everyone: usage drops across the board
// without anyone churning.
func TestHolidayWeekDipsForEveryone(t *testing.T) {
	rows, _ := Portfolio(testOptions(5))
	var before, holiday float64
	for _, r := range rows {
		if !r.Logins.Known {
			continue
		}
		switch r.Week.Format(time.DateOnly) {
		case "2025-12-15":
			before += float64(r.Logins.V)
		case "2025-12-22":
			holiday += float64(r.Logins.V)
		}
	}
	if holiday > 0.7*before {
		t.Fatalf("holiday logins %v vs %v the week before: no dip", holiday, before)
	}
}

func TestChurnersDeclineAndStayersDoNot(t *testing.T) {
	opts := testOptions(21)
	opts.MissingRate = -1
	rows, churn := Portfolio(opts)
	churnAt := ChurnMap(churn)
	quiet := map[string]bool{}
	for _, c := range churn {
		quiet[c.AccountID] = c.Quiet || !hasPattern(c.Patterns, UsageDecay)
	}
	first, last := map[string]float64{}, map[string]float64{}
	for _, r := range rows {
		if !r.Logins.Known {
			continue
		}
		if r.Week.Before(opts.Start.AddDate(0, 0, 21)) {
			first[r.AccountID] += float64(r.Logins.V) / 3
		}
		last[r.AccountID] = float64(r.Logins.V)
	}
	var fell, decaying int
	for id := range churnAt {
		if quiet[id] {
			continue
		}
		decaying++
		if last[id] < 0.8*first[id] {
			fell++
		}
	}
	if decaying == 0 || fell < decaying*3/4 {
		t.Fatalf("only %d of %d usage-decay churners fell 20%%", fell, decaying)
	}
}

func TestWriteChurnCSV(t *testing.T) {
	var buf bytes.Buffer
	c := []Churn{{AccountID: "A-1", Date: time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC),
		Onset: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), Patterns: []Pattern{UsageDecay, SponsorSilence}}}
	if err := WriteChurnCSV(&buf, c); err != nil {
		t.Fatal(err)
	}
	want := "account_id,churn_date,onset_date,patterns,quiet\nA-1,2026-03-04,2026-01-05,usage_decay;sponsor_silence,false\n"
	if buf.String() != want {
		t.Fatalf("got %q, want %q", buf.String(), want)
	}
}

// The committed example files must be exactly what the generator writes,
// so they cannot drift from the code. Regenerate with `go generate ./simulate/`.
func TestExampleFilesAreCurrent(t *testing.T) {
	files, err := ExampleFiles()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("..", "examples", name))
		if err != nil {
			t.Fatalf("%v (run go generate ./simulate/)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("examples/%s differs from the generator output; run go generate ./simulate/", name)
		}
	}
}

func TestBookReadsBackAndHasTheTextbookCase(t *testing.T) {
	b, err := snapshot.Read(bytes.NewReader(mustFile(t, "portfolio.csv")), "portfolio.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Rejected) != 0 || len(b.Rows) != 600 {
		t.Fatalf("read %d rows, %d rejected; want 600 and none", len(b.Rows), len(b.Rejected))
	}
	var nw []snapshot.Snapshot
	for _, r := range b.Rows {
		if r.AccountName == "Northwind Freight" {
			nw = append(nw, r)
		}
	}
	if len(nw) != 12 {
		t.Fatalf("Northwind Freight has %d rows", len(nw))
	}
	last, threeAgo := nw[11], nw[8]
	if drop := 1 - float64(last.Logins.V)/float64(threeAgo.Logins.V); drop < 0.375 || drop > 0.385 {
		t.Errorf("logins fell %.3f over 3 weeks, want 38%%", drop)
	}
	days := func(a, b time.Time) int { return int(a.Sub(b).Hours() / 24) }
	if d := days(last.Week, last.LastExecContact.V); d != 42 {
		t.Errorf("sponsor silent %d days, want 42", d)
	}
	if last.CriticalOpenTickets.V != 1 || last.OldestOpenTicketDays.V != 47 {
		t.Errorf("critical %d, oldest %d days; want 1 and 47", last.CriticalOpenTickets.V, last.OldestOpenTicketDays.V)
	}
	if last.UsersDeactivated.V != 3 || days(last.RenewalDate.V, last.Week) != 67 {
		t.Errorf("deactivated %d, renewal in %d days; want 3 and 67", last.UsersDeactivated.V, days(last.RenewalDate.V, last.Week))
	}
	if !strings.Contains(string(mustFile(t, "portfolio.csv")), HostileNote) {
		t.Error("the book lacks the hostile note")
	}
}

func mustFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The README tells the example book's story under the default model: a
// handful of critical and elevated accounts led by Northwind Freight, most
// accounts healthy, two without usage data. If a model change moves the mix
// out of these bands, the README and the book need another look.
func TestBookMixUnderDefaultModel(t *testing.T) {
	as := risk.DefaultModel().ScorePortfolio(Book(), BookWeek)
	n := map[risk.Tier]int{}
	var northwind risk.Assessment
	for _, a := range as {
		n[a.Tier]++
		if a.AccountName == "Northwind Freight" {
			northwind = a
		}
	}
	t.Logf("tiers: %v", n)
	if northwind.Tier != risk.Critical {
		t.Errorf("Northwind Freight is %s (score %d), want critical", northwind.Tier, northwind.Score)
	}
	bands := map[risk.Tier][2]int{
		risk.Critical: {3, 5}, risk.Elevated: {4, 8}, risk.Watch: {6, 13},
		risk.Healthy: {25, 34}, risk.InsufficientEvidence: {1, 3},
	}
	for tier, b := range bands {
		if n[tier] < b[0] || n[tier] > b[1] {
			t.Errorf("%d %s accounts, want %d..%d", n[tier], tier, b[0], b[1])
		}
	}
}

// TestShortWindowsWithLongOnsets generates windows shorter than the
// longest onsets: a churner's decline may then begin before the first
// week, and every pattern must still be drawn from there.
func TestShortWindowsWithLongOnsets(t *testing.T) {
	for weeks := 2; weeks <= 12; weeks += 2 {
		rows, churn := Portfolio(Options{Accounts: 300, Weeks: weeks, Seed: int64(weeks), ChurnRate: 0.3})
		if len(rows) == 0 || len(churn) == 0 {
			t.Fatalf("%d weeks: %d rows, %d churners", weeks, len(rows), len(churn))
		}
	}
}

// TestExtendedAddsTheOptionalColumns checks that Options.Extended adds the
// columns of model 1.4 and changes nothing else but nps, which it reports
// in the week of an answer only: the same book with and without them
// differs in what the model can read from the new columns alone.
func TestExtendedAddsTheOptionalColumns(t *testing.T) {
	opts := testOptions(5)
	plain, churn := Portfolio(opts)
	opts.Extended = true
	ext, extChurn := Portfolio(opts)
	if len(plain) != len(ext) || !reflect.DeepEqual(churn, extChurn) {
		t.Fatalf("%d rows and %d with the optional columns; churn equal: %v", len(plain), len(ext), reflect.DeepEqual(churn, extChurn))
	}
	var tickets, logins, surveys, missed, answers int
	for i := range ext {
		e := ext[i]
		tickets += b2i(e.TicketsOpened.Known)
		logins += b2i(e.LastLoginDate.Known)
		surveys += b2i(e.NPSSurveySent.Known)
		missed += e.MeetingsMissed.V
		if e.NPS.Known {
			answers++
			if e.NPS != plain[i].NPS {
				t.Fatalf("row %d: nps %v, without the optional columns %v", i, e.NPS, plain[i].NPS)
			}
		}
		if e.LastLoginDate.Known && (e.LastLoginDate.V.After(e.Week.AddDate(0, 0, 6)) || !e.Logins.Known) {
			t.Fatalf("row %d: last login %v in the week of %v, logins %v", i, e.LastLoginDate.V, e.Week, e.Logins)
		}
		e.TicketsOpened, e.LastLoginDate, e.NPSSurveySent, e.MeetingsMissed, e.NPS = plain[i].TicketsOpened, plain[i].LastLoginDate, plain[i].NPSSurveySent, plain[i].MeetingsMissed, plain[i].NPS
		if !reflect.DeepEqual(e, plain[i]) {
			t.Fatalf("row %d differs beyond the optional columns:\n%+v\n%+v", i, e, plain[i])
		}
	}
	n := len(ext)
	if tickets < n*9/10 || logins < n*8/10 || surveys < n/2 || missed == 0 || answers == 0 || answers > n/5 {
		t.Errorf("of %d rows: %d with tickets opened, %d with a last login, %d with a survey, %d meetings missed, %d answers", n, tickets, logins, surveys, missed, answers)
	}
	for i := range plain {
		if plain[i].TicketsOpened.Known || plain[i].LastLoginDate.Known || plain[i].NPSSurveySent.Known || plain[i].MeetingsMissed.Known {
			t.Fatalf("row %d has an optional column without Extended", i)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
