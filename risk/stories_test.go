package risk

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
)

// The held-out account stories of issue 11, each as a class: the model
// must read every variant the same way, not one tuned instance.

// TestCommercialDistressWithSteadyUsage: usage holds, but an invoice is a
// month or more overdue, the customer asks to downgrade and answers the
// survey as a detractor. A downgrade while the bills go unpaid is not
// right-sizing: the account is elevated at least.
func TestCommercialDistressWithSteadyUsage(t *testing.T) {
	m := DefaultModel()
	for _, overdue := range []int{30, 45, 75} {
		for _, nps := range []int{6, 4, 1} {
			rows := steady("CD", 16)
			last := len(rows) - 1
			for i := last - 3; i <= last; i++ {
				rows[i].OverdueInvoiceDays = snapshot.Some(overdue - 7*(last-i))
			}
			rows[last-1].DowngradeRequested = snapshot.Some(true)
			rows[last-2].NPS = snapshot.Some(nps)
			rows[last-1].NPS, rows[last].NPS = snapshot.Some(nps), snapshot.Some(nps)
			a := m.Score(rows, time.Time{})
			name := fmt.Sprintf("%d days overdue, NPS %d", overdue, nps)
			if a.Tier != Elevated && a.Tier != Critical {
				t.Errorf("%s: tier %s (score %d), want elevated at least; dims %v signals %v", name, a.Tier, a.Score, a.Dimensions, texts(a))
			}
			if text := signalText(a, SigDowngradeRequested); strings.Contains(text, "right-sizing unused seats") || !strings.Contains(text, "commercial distress") {
				t.Errorf("%s: downgrade read as %q, want commercial distress", name, text)
			}
		}
	}
	// The same downgrade with paid invoices, usage holding, is right-sizing.
	rows := steady("RS", 16)
	rows[14].DowngradeRequested = snapshot.Some(true)
	a := m.Score(rows, time.Time{})
	if a.Tier.AtRisk() || !strings.Contains(signalText(a, SigDowngradeRequested), "right-sizing unused seats") {
		t.Errorf("a downgrade with paid invoices and steady usage: tier %s, %q", a.Tier, signalText(a, SigDowngradeRequested))
	}
}

// TestSupportStormWithSteadyUsage: usage holds, but two critical tickets
// stay open for weeks, escalations and integration errors rise and NPS
// falls from a promoter's answer to a detractor's. Under model 1.3 the
// support dimension's cap held such storms just under elevated.
func TestSupportStormWithSteadyUsage(t *testing.T) {
	m := DefaultModel()
	for _, age := range []int{28, 42, 60} {
		for _, esc := range [][4]int{{0, 1, 1, 1}, {0, 1, 1, 2}} { // escalations in the last 4 weeks, oldest first
			for _, nps := range [][2]int{{9, 6}, {8, 5}} {
				rows := steady("SS", 16)
				last := len(rows) - 1
				errs := [4]int{3, 8, 12, 18}
				for j := range 4 {
					r := &rows[last-3+j]
					r.CriticalOpenTickets = snapshot.Some(1 + j/2)
					r.OpenTickets = snapshot.Some(3 + j)
					r.OldestOpenTicketDays = snapshot.Some(age - 7*(3-j))
					r.Escalations = snapshot.Some(esc[j])
					r.IntegrationErrors = snapshot.Some(errs[j])
				}
				for i := range rows {
					rows[i].NPS = snapshot.Some(nps[0])
				}
				rows[last-1].NPS, rows[last].NPS = snapshot.Some(nps[1]), snapshot.Some(nps[1])
				a := m.Score(rows, time.Time{})
				if a.Tier != Elevated && a.Tier != Critical {
					t.Errorf("critical ticket %d days old, escalations %v, NPS %d to %d: tier %s (score %d), want elevated; dims %v signals %v",
						age, esc, nps[0], nps[1], a.Tier, a.Score, a.Dimensions, texts(a))
				}
			}
		}
	}
}

// TestBrokenFeedIsStaleNotCarriedForward: every field of the account is
// empty for the last weeks. The fields are listed as stale with the weeks
// since they were reported, nothing is read from the weeks before as if
// current, and the account is insufficient_evidence, not healthy and not
// scored from last month's tickets and invoices.
func TestBrokenFeedIsStaleNotCarriedForward(t *testing.T) {
	m := DefaultModel()
	for _, n := range []int{1, 2, 3} {
		for _, story := range []string{"steady", "textbook"} {
			rows := steady("BF", 12)
			if story == "textbook" {
				rows = textbook()
			}
			for i := len(rows) - n; i < len(rows); i++ {
				rows[i] = snapshot.Snapshot{AccountID: rows[i].AccountID, AccountName: rows[i].AccountName, Week: rows[i].Week, Owner: rows[i].Owner, ARR: rows[i].ARR}
			}
			a := m.Score(rows, time.Time{})
			name := fmt.Sprintf("%s, feed broken %d weeks", story, n)
			if a.Tier != InsufficientEvidence {
				t.Errorf("%s: tier %s (score %d), want insufficient_evidence; signals %v", name, a.Tier, a.Score, texts(a))
			}
			stale := fmt.Sprintf(" (stale %s)", plural(n, "week", "weeks"))
			for _, f := range []string{"logins", "active_users", "open_tickets", "overdue_invoice_days", "last_exec_contact", "goal_status", "escalations"} {
				if !slices.Contains(a.Missing, f) || !slices.Contains(a.MissingText(), f+stale) {
					t.Errorf("%s: missing %v (%v) lacks %q", name, a.Missing, a.Stale, f+stale)
				}
			}
			for _, s := range a.Signals {
				if s.ID == SigCriticalTicketOpen || s.ID == SigExecSponsorSilence || s.ID == SigInvoiceOverdue || s.ID == SigGoalAtRisk {
					t.Errorf("%s: %s scored from a stale week: %q", name, s.ID, s.Text)
				}
			}
		}
	}
	// A rows-less stretch is a broken feed too.
	a := m.Score(textbook(), week(13))
	if a.Tier != InsufficientEvidence || !slices.Contains(a.MissingText(), "logins (stale 2 weeks)") {
		t.Errorf("no rows for the last 2 weeks: tier %s, missing %v", a.Tier, a.Missing)
	}
}

// TestStaleColumn: one column stops coming while the rest of the feed
// works. After windows.stale_weeks it is stale (listed, not read); a
// single blank week is not.
func TestStaleColumn(t *testing.T) {
	m := DefaultModel()
	rows := steady("SC", 12)
	last := len(rows) - 1
	rows[last-2].OverdueInvoiceDays = snapshot.Some(70)
	rows[last-1].OverdueInvoiceDays, rows[last].OverdueInvoiceDays = snapshot.Opt[int]{}, snapshot.Opt[int]{}
	a := m.Score(rows, time.Time{})
	if (!slices.Contains(a.Missing, "overdue_invoice_days") || a.Stale["overdue_invoice_days"] != 2) || slices.Contains(signalIDs(a), SigInvoiceOverdue) {
		t.Errorf("invoice unreported for 2 weeks: missing %v signals %v", a.Missing, signalIDs(a))
	}
	rows[last-1].OverdueInvoiceDays = snapshot.Some(63)
	a = m.Score(rows, time.Time{})
	if len(a.Missing) != 0 || !slices.Contains(signalIDs(a), SigInvoiceOverdue) {
		t.Errorf("one blank week: missing %v signals %v; want last week's invoice read", a.Missing, signalIDs(a))
	}
	off := m
	off.Windows.StaleWeeks = 0
	rows[last-1].OverdueInvoiceDays = snapshot.Opt[int]{}
	if a := off.Score(rows, time.Time{}); len(a.Missing) != 0 || !slices.Contains(signalIDs(a), SigInvoiceOverdue) {
		t.Errorf("stale_weeks 0: missing %v signals %v; want the invoice of 2 weeks ago read, as before 1.4", a.Missing, signalIDs(a))
	}
	// An optional column the book never had is not missing.
	if a := m.Score(steady("V1", 12), time.Time{}); len(a.Missing) != 0 {
		t.Errorf("a v1 book lacks %v", a.Missing)
	}
}

func texts(a Assessment) []string {
	var out []string
	for _, s := range a.Signals {
		out = append(out, fmt.Sprintf("%s(%d): %s", s.ID, s.Points, s.Text))
	}
	return out
}

func signalText(a Assessment, id string) string {
	for _, s := range a.Signals {
		if s.ID == id {
			return s.Text
		}
	}
	return ""
}

// TestKnownMaskFollowsWantedFields checks the written-out bits of
// knownMask against wantedFields, field by field.
func TestKnownMaskFollowsWantedFields(t *testing.T) {
	full := steady("KM", 1)[0]
	full.TicketsOpened, full.MeetingsMissed = snapshot.Some(1), snapshot.Some(0)
	full.LastLoginDate, full.NPSSurveySent = snapshot.Some(full.Week), snapshot.Some(full.Week)
	if got, want := knownMask(&full), uint32(1)<<len(wantedFields)-1; got != want {
		t.Fatalf("a full row: mask %b, want %b", got, want)
	}
	cells := map[string]string{"renewal_date": "2027-01-04", "last_exec_contact": "2026-11-02", "last_csm_meeting": "2026-11-02",
		"last_login_date": "2026-11-02", "nps_survey_sent": "2026-11-02", "dau_mau": "0.5", "feature_adoption": "0.5",
		"champion_departed": "yes", "downgrade_requested": "yes", "goal_status": "at_risk"}
	for i, f := range wantedFields {
		cell, ok := cells[f.name]
		if !ok {
			cell = "3"
		}
		b, err := snapshot.Read(strings.NewReader("account_id,account_name,week,owner,arr,"+f.name+"\nA,N,2026-11-16,d,1,"+cell+"\n"), "one.csv")
		if err != nil || len(b.Rows) != 1 {
			t.Fatalf("%s: %v %+v", f.name, err, b.Rejected)
		}
		if got := knownMask(&b.Rows[0]); got != 1<<i {
			t.Errorf("a row knowing only %s: mask %b, want bit %d", f.name, got, i)
		}
	}
	if wantedFields[npsBit].name != "nps" || wantedFields[bitTicketsOpened].name != "tickets_opened" || wantedFields[bitLastLoginDate].name != "last_login_date" ||
		wantedFields[bitNPSSurveySent].name != "nps_survey_sent" || wantedFields[bitMeetingsMissed].name != "meetings_missed" {
		t.Error("a named bit does not name its field")
	}
}

// TestTableCountsTheFieldsABrokenFeedLeftStale keeps the table readable:
// the fields stale for the same weeks are one count, the rest by name.
func TestTableCountsTheFieldsABrokenFeedLeftStale(t *testing.T) {
	got := missingSummary(Assessment{Missing: []string{"a", "b", "nps", "c", "d", "x"}, Stale: map[string]int{"a": 2, "b": 2, "c": 2, "d": 2, "x": 3}})
	if want := "4 fields stale 2 weeks,nps,x (stale 3 weeks)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	rows := steady("BF", 12)
	rows[11] = snapshot.Snapshot{AccountID: "BF", AccountName: "Broken", Week: rows[11].Week, Owner: "dana", ARR: 1}
	var b strings.Builder
	if err := DefaultModel().NewReport(snapshot.Batch{Rows: rows}, time.Time{}).WriteTable(&b); err != nil || !strings.Contains(b.String(), "missing: 18 fields stale 1 week") {
		t.Errorf("table (%v):\n%s", err, b.String())
	}
}
