package risk

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
)

// sentenceFields maps what a signal's sentence says to the field it reads
// that from. Phrases are matched case-insensitively, except ARR.
var sentenceFields = []struct{ phrase, field string }{
	{"logins", "logins"},
	{"last login", "last_login_date"},
	{"logged in", "last_login_date"},
	{"active users", "active_users"},
	{"dau/mau", "dau_mau"},
	{"feature adoption", "feature_adoption"},
	{"licensed seats", "licensed_seats"},
	{"deactivated", "users_deactivated"},
	{"champion", "champion_departed"},
	{"executive sponsor", "last_exec_contact"},
	{"csm meeting", "last_csm_meeting"},
	{"nps", "nps"},
	{"survey", "nps_survey_sent"},
	{"critical ticket", "critical_open_tickets"},
	{"oldest open ticket", "oldest_open_ticket_days"},
	{"the oldest for", "oldest_open_ticket_days"},
	{"ticket has been open for", "oldest_open_ticket_days"},
	{"support ticket is open", "open_tickets"},
	{"support tickets are open", "open_tickets"},
	{"tickets opened", "tickets_opened"},
	{"escalation", "escalations"},
	{"integration errors", "integration_errors"},
	{"invoice", "overdue_invoice_days"},
	{"overdue", "overdue_invoice_days"},
	{"downgrade", "downgrade_requested"},
	{"goal", "goal_status"},
	{"missed or cancelled", "meetings_missed"},
}

// citedFields are the fields a sentence quotes, by sentenceFields. Text
// in double quotes is the customer's (the success goal): its words name
// no field.
func citedFields(text string) []string {
	var out []string
	if strings.Contains(text, "goal \"") {
		out = append(out, "success_goal")
	}
	for {
		open := strings.IndexByte(text, '"')
		end := strings.IndexByte(text[open+1:], '"')
		if open < 0 || end < 0 {
			break
		}
		text = text[:open] + text[open+1+end+1:]
	}
	lower := strings.ToLower(text)
	for _, p := range sentenceFields {
		if strings.Contains(lower, p.phrase) && !slices.Contains(out, p.field) {
			out = append(out, p.field)
		}
	}
	if strings.Contains(text, "ARR") {
		out = append(out, "arr")
	}
	return out
}

// TestEvidenceListsEveryFieldItsSentenceQuotes scores the example books
// as of each of their weeks, and a book made to raise every signal the
// model has in each of its wordings, and checks that each signal's
// evidence lists every field its sentence quotes: a CSM who reads "the
// oldest open ticket is 47 days old" must find oldest_open_ticket_days
// among its sources.
func TestEvidenceListsEveryFieldItsSentenceQuotes(t *testing.T) {
	m := DefaultModel()
	seen := map[string]bool{}
	check := func(book string, as []Assessment) {
		for _, a := range as {
			for _, s := range a.Signals {
				seen[s.ID] = true
				have := append([]string{s.Evidence.Field}, s.Evidence.Fields...)
				for _, f := range citedFields(s.Text) {
					if !slices.Contains(have, f) {
						t.Errorf("%s %s as of %s: %s quotes %s, its evidence lists %v: %q", book, a.AccountID, a.AsOf, s.ID, f, have, s.Text)
					}
				}
				if len(s.Evidence.Weeks) != len(s.Evidence.Values) {
					t.Errorf("%s %s: %s has %d weeks and %d values", book, a.AccountID, s.ID, len(s.Evidence.Weeks), len(s.Evidence.Values))
				}
			}
		}
	}
	for _, name := range []string{"portfolio.csv", "history.csv"} {
		b, err := snapshot.ReadFiles([]string{filepath.Join("..", "examples", name)})
		if err != nil {
			t.Fatal(err)
		}
		weeks := map[time.Time]bool{}
		for _, r := range b.Rows {
			weeks[r.Week] = true
		}
		for w := range weeks {
			check(name, m.ScorePortfolio(b.Rows, w))
		}
	}
	var crafted []snapshot.Snapshot
	for _, h := range everySignalBook() {
		crafted = append(crafted, h...)
		check("crafted", []Assessment{m.Score(h, time.Time{})})
	}
	check("crafted portfolio", m.ScorePortfolio(crafted, time.Time{}))
	for _, id := range SignalIDs() {
		if !seen[id] {
			t.Errorf("no book raised %s: its sentence went unchecked", id)
		}
	}
}

// everySignalBook is a set of account histories that together raise every
// signal, in each of the wordings that quote another field.
func everySignalBook() [][]snapshot.Snapshot {
	var book [][]snapshot.Snapshot
	// Everything at once, with the optional columns.
	all := textbook()
	last := len(all) - 1
	lastWeek := all[last].Week
	for i := range all {
		all[i].TicketsOpened = snapshot.Some(1)
		all[i].LastLoginDate = snapshot.Some(day(all[i].Week, -2))
		all[i].MeetingsMissed = snapshot.Some(0)
	}
	for i := last - 3; i <= last; i++ {
		all[i].ActiveUsers = snapshot.Some(12)
		all[i].DAUMAU = snapshot.Some(0.1)
		all[i].FeatureAdoption = snapshot.Some(0.2)
		all[i].IntegrationErrors = snapshot.Some(30)
		all[i].LastCSMMeeting = snapshot.Some(day(lastWeek, -90))
		all[i].TicketsOpened = snapshot.Some(6)
		all[i].LastLoginDate = snapshot.Some(day(lastWeek, -40))
		all[i].ARR = 80000
		all[i].OverdueInvoiceDays = snapshot.Some(60)
	}
	all[last].ChampionDeparted = snapshot.Some(true)
	all[last].NPS = snapshot.Some(3)
	all[last].Escalations = snapshot.Some(2)
	all[last].DowngradeRequested = snapshot.Some(true)
	all[last].GoalStatus = snapshot.GoalOffTrack
	all[last].MeetingsMissed = snapshot.Some(3)
	book = append(book, all)

	// Right-sizing: seats cut to what is used, users switched off, ARR down.
	rs := steady("RS", 14)
	for i := 11; i < 14; i++ {
		rs[i].LicensedSeats, rs[i].ARR = snapshot.Some(42), 100000
	}
	rs[12].DowngradeRequested = snapshot.Some(true)
	rs[12].UsersDeactivated = snapshot.Some(5)
	book = append(book, rs)
	// The same cut while active users slide: the seats left still cover them.
	cover := steady("RC", 14)
	for i := 10; i < 14; i++ {
		cover[i].LicensedSeats, cover[i].ARR = snapshot.Some(36), 90000
		cover[i].ActiveUsers = snapshot.Some(34)
	}
	cover[12].DowngradeRequested = snapshot.Some(true)
	cover[12].UsersDeactivated = snapshot.Some(4)
	book = append(book, cover)

	// A survey left unanswered.
	survey := steady("NR", 12)
	for i := 3; i < 12; i++ {
		survey[i].NPS = snapshot.Opt[int]{}
	}
	for i := 6; i < 12; i++ {
		survey[i].NPSSurveySent = snapshot.Some(day(survey[6].Week, 1))
	}
	book = append(book, survey)

	// An old ticket, none critical; a goal at risk; a replaced champion.
	tickets := steady("UT", 12)
	tickets[11].OldestOpenTicketDays, tickets[11].OpenTickets = snapshot.Some(40), snapshot.Some(2)
	tickets[11].GoalStatus = snapshot.GoalAtRisk
	for i := 7; i < 10; i++ {
		tickets[i].ChampionDeparted = snapshot.Some(true)
	}
	book = append(book, tickets)

	// A dip deeper than the one the same weeks had last year; a slow slide.
	seasonal := steady("SE", 70)
	for _, i := range []int{69, 68, 67} {
		seasonal[i].Logins = snapshot.Some(seasonal[i].Logins.V / 6)
		seasonal[i-52].Logins = snapshot.Some(seasonal[i-52].Logins.V / 2)
	}
	book = append(book, seasonal)
	slide := steady("SL", 14)
	for i := 10; i < 14; i++ {
		f := 0.97 - 0.03*float64(i-10)
		slide[i].Logins = snapshot.Some(int(110 * f))
		slide[i].ActiveUsers = snapshot.Some(int(40 * f))
		slide[i].DAUMAU = snapshot.Some(0.42 * f)
	}
	book = append(book, slide)
	return book
}
