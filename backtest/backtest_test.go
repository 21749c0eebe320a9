package backtest

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/snapshot"
)

func day(s string) time.Time {
	t, ok := snapshot.ParseDate(s)
	if !ok {
		panic(s)
	}
	return t
}

// history builds weekly rows for one account from first to last (Mondays);
// flags maps a week to the signal ids the scripted rule reports there.
func history(id, first, last string, flags map[string]string) []snapshot.Snapshot {
	var rows []snapshot.Snapshot
	for w := day(first); !w.After(day(last)); w = w.AddDate(0, 0, 7) {
		s := snapshot.Snapshot{AccountID: id, AccountName: id, Owner: "dana", ARR: 1000, Week: w}
		s.Notes = flags[snapshot.FormatDate(w)]
		rows = append(rows, s)
	}
	return rows
}

// scripted flags an account in exactly the weeks whose notes name signals.
func scripted(t *snapshot.Table, _ time.Time, due []*account) []verdict {
	out := make([]verdict, len(due))
	var s snapshot.Snapshot
	for i, a := range due {
		t.Row(int(a.rows[len(a.rows)-1]), &s)
		if s.Notes != "" {
			out[i] = verdict{flagged: true, signals: strings.Split(s.Notes, ",")}
		}
	}
	return out
}

// A hand-built replay where every answer is known in advance.
func TestReplayArithmetic(t *testing.T) {
	var rows []snapshot.Snapshot
	add := func(r []snapshot.Snapshot) { rows = append(rows, r...) }
	// C1 churns Fri 2026-03-20, first flagged week of 2026-01-19: lead 60 days.
	add(history("C1", "2026-01-05", "2026-03-16", map[string]string{"2026-01-19": "login_drop,sponsor_silence", "2026-01-26": "login_drop"}))
	// C2 churns 2026-03-06, flagged the week of 2026-02-16: lead 18 days.
	add(history("C2", "2026-01-05", "2026-03-02", map[string]string{"2026-02-16": "login_drop"}))
	// C3 churns 2026-02-27 and is never flagged.
	add(history("C3", "2026-01-05", "2026-02-23", nil))
	// C4 churns 2026-03-27 but is flagged only 81 days ahead, beyond the 60-day horizon.
	add(history("C4", "2026-01-05", "2026-03-23", map[string]string{"2026-01-05": "nps_low"}))
	// C0 churned on 2026-01-01, before its first scored week: excluded.
	add(history("C0", "2026-01-05", "2026-01-12", map[string]string{"2026-01-05": "login_drop"}))
	// N1 stays and is flagged once: a false alarm. N2 and N3 stay unflagged.
	add(history("N1", "2026-01-05", "2026-03-16", map[string]string{"2026-02-02": "nps_low,ticket_aging"}))
	add(history("N2", "2026-01-05", "2026-03-16", nil))
	add(history("N3", "2026-01-05", "2026-03-16", nil))
	churn := map[string]time.Time{
		"C0": day("2026-01-01"), "C1": day("2026-03-20"), "C2": day("2026-03-06"),
		"C3": day("2026-02-27"), "C4": day("2026-03-27"), "GONE": day("2026-02-01"),
	}
	got := replay(scripted, snapshot.TableOf(rows), churn, Options{WarmupWeeks: 1, HorizonDays: 60})
	want := Metrics{
		Accounts: 7, Churners: 4, FlaggedChurners: 2, NonChurners: 3, FalseAlarms: 1,
		MedianLeadDays: 39, Recall: 0.5, Recall30d: 0.25, Recall60d: 0.25,
		Precision: 0.667, FalsePositiveRate: 0.333,
		AlertsPerWeek:           0.417, // 5 flags over the 12 weeks 2026-01-05..2026-03-23
		FirstSignalsChurners:    map[string]int{"login_drop": 2, "sponsor_silence": 1},
		FirstSignalsFalseAlarms: map[string]int{"nps_low": 1, "ticket_aging": 1},
		MissedChurners:          []string{"C3", "C4"},
		FalseAlarmAccounts:      []string{"N1"},
		FalseAlarmWeeks:         map[string]int{"2026-02-02": 1},
	}
	if len(got.Metrics.Outcomes) != 7 {
		t.Errorf("%d outcomes, want 7", len(got.Metrics.Outcomes))
	}
	for _, o := range got.Metrics.Outcomes {
		if o.AccountID == "C1" && (o.LeadDays != 60 || !o.FirstFlag.Equal(day("2026-01-19"))) {
			t.Errorf("C1 outcome %+v", o)
		}
	}
	got.Metrics.Outcomes = nil
	if !reflect.DeepEqual(got.Metrics, want) {
		t.Errorf("metrics:\n got %+v\nwant %+v", got.Metrics, want)
	}
	if got.ExcludedChurned != 1 || got.UnknownChurn != 1 {
		t.Errorf("excluded %d, unknown %d; want 1 and 1", got.ExcludedChurned, got.UnknownChurn)
	}
	if got.From != "2026-01-05" || got.To != "2026-03-23" || got.ScoredWeeks != 12 {
		t.Errorf("window %s..%s, %d weeks", got.From, got.To, got.ScoredWeeks)
	}
}

// Warm-up weeks and the From/To window limit which weeks are scored.
func TestReplayWindow(t *testing.T) {
	rows := history("N1", "2026-01-05", "2026-03-16", map[string]string{"2026-01-12": "x", "2026-03-09": "y"})
	r := replay(scripted, snapshot.TableOf(rows), nil, Options{WarmupWeeks: 3})
	if r.FalseAlarms != 1 || r.FirstSignalsFalseAlarms["y"] != 1 {
		t.Errorf("warm-up: %+v", r.Metrics)
	}
	r = replay(scripted, snapshot.TableOf(rows), nil, Options{WarmupWeeks: 1, To: day("2026-03-02")})
	if r.FalseAlarms != 1 || r.FirstSignalsFalseAlarms["x"] != 1 || r.To != "2026-03-02" {
		t.Errorf("window: %+v", r)
	}
	r = replay(scripted, snapshot.TableOf(rows), nil, Options{WarmupWeeks: 1, From: day("2026-01-19"), To: day("2026-03-02")})
	if r.FalseAlarms != 0 || r.NonChurners != 1 {
		t.Errorf("window without flags: %+v", r.Metrics)
	}
}

func TestNaive(t *testing.T) {
	w := day("2026-01-05")
	row := func(logins, nps, oldest int) snapshot.Snapshot {
		s := snapshot.Snapshot{AccountID: "A", Week: w}
		if logins >= 0 {
			s.Logins = snapshot.Some(logins)
		}
		if nps >= 0 {
			s.NPS = snapshot.Some(nps)
		}
		if oldest >= 0 {
			s.OldestOpenTicketDays = snapshot.Some(oldest)
		}
		w = w.AddDate(0, 0, 7)
		return s
	}
	cases := []struct {
		name string
		hist []snapshot.Snapshot
		want []string
	}{
		{"steady", []snapshot.Snapshot{row(100, 8, 10), row(95, 8, 10)}, nil},
		{"drop 30%", []snapshot.Snapshot{row(100, 8, 10), row(70, 8, 10)}, []string{"naive_login_drop"}},
		{"drop 29%", []snapshot.Snapshot{row(100, 8, 10), row(71, 8, 10)}, nil},
		{"detractor and old ticket", []snapshot.Snapshot{row(100, 6, 31)}, []string{"naive_nps", "naive_old_ticket"}},
		{"unknown is not a drop", []snapshot.Snapshot{row(100, -1, -1), row(-1, -1, -1)}, nil},
	}
	for _, c := range cases {
		v := Naive(c.hist)
		if v.flagged != (len(c.want) > 0) || !reflect.DeepEqual(v.signals, c.want) {
			t.Errorf("%s: got %+v, want %v", c.name, v, c.want)
		}
	}
}

func TestReadChurn(t *testing.T) {
	in := "Account_ID , churn_date,reason\n" +
		"A-1,2026-03-04,pricing\n" +
		",2026-03-05,\n" +
		"A-2,2026-02-30,\n" +
		"A-3,,\n" +
		"A-1,2026-01-10,\n" +
		"A-4,2026-05-01\n"
	got, rej, err := ReadChurn(strings.NewReader(in), "churn.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Time{"A-1": day("2026-01-10"), "A-4": day("2026-05-01")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	wantRej := []snapshot.Rejection{
		{File: "churn.csv", Row: 3, Field: "account_id", Reason: "required field is empty"},
		{File: "churn.csv", Row: 4, Field: "churn_date", Reason: `"2026-02-30" is not a date (YYYY-MM-DD)`},
		{File: "churn.csv", Row: 5, Field: "churn_date", Reason: "required field is empty"},
		{File: "churn.csv", Row: 6, Field: "account_id", Reason: `account "A-1" already has a churn date at row 2; kept the earlier, 2026-01-10`},
	}
	if !reflect.DeepEqual(rej, wantRej) {
		t.Errorf("rejections:\n got %+v\nwant %+v", rej, wantRej)
	}
	if _, _, err := ReadChurn(strings.NewReader("id,date\nA,2026-01-01\n"), "x.csv"); err == nil || !strings.Contains(err.Error(), "x.csv") {
		t.Errorf("bad header: err = %v", err)
	}
	if _, _, err := ReadChurnCSV("testdata/does-not-exist.csv"); err == nil {
		t.Error("missing file: no error")
	}
}

// On the example history the default model must raise far fewer false
// alarms than the spreadsheet rule while still catching most churners.
func TestDefaultModelAgainstBaselineOnExampleHistory(t *testing.T) {
	b, err := snapshot.ReadFiles([]string{"../examples/history.csv"})
	if err != nil {
		t.Fatal(err)
	}
	churn, rej, err := ReadChurnCSV("../examples/churn.csv")
	if err != nil || len(rej) != 0 || len(b.Rejected) != 0 {
		t.Fatalf("inputs: %v, %v, %v", err, rej, b.Rejected)
	}
	r := Run(risk.DefaultModel(), b.Rows, churn, Options{})
	for _, m := range []Metrics{r.Metrics, r.Baseline} {
		t.Logf("flagged %d/%d, lead %.0f days, recall30 %.3f, precision %.3f, fpr %.3f",
			m.FlaggedChurners, m.Churners, m.MedianLeadDays, m.Recall30d, m.Precision, m.FalsePositiveRate)
	}
	if r.Accounts != 60 || r.Churners != len(churn) {
		t.Fatalf("%d accounts, %d churners; want 60 and %d", r.Accounts, r.Churners, len(churn))
	}
	if r.FalsePositiveRate >= r.Baseline.FalsePositiveRate/2 || r.Precision <= r.Baseline.Precision {
		t.Errorf("model fpr %.3f precision %.3f vs baseline %.3f %.3f", r.FalsePositiveRate, r.Precision,
			r.Baseline.FalsePositiveRate, r.Baseline.Precision)
	}
	if r.Recall < 0.5 {
		t.Errorf("model caught %d of %d churners", r.FlaggedChurners, r.Churners)
	}
}
