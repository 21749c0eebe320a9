package risk

import (
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
)

func findSignal(a Assessment, id string) *Signal {
	for i := range a.Signals {
		if a.Signals[i].ID == id {
			return &a.Signals[i]
		}
	}
	return nil
}

func TestTicketVolumeRising(t *testing.T) {
	m := DefaultModel()
	withTickets := func(recent ...int) []snapshot.Snapshot {
		rows := steady("TV", 14)
		for i := range rows {
			rows[i].TicketsOpened = snapshot.Some(1 + i%2)
		}
		for j, v := range recent {
			rows[len(rows)-len(recent)+j].TicketsOpened = snapshot.Some(v)
		}
		return rows
	}
	s := findSignal(m.Score(withTickets(5, 6, 4, 7), time.Time{}), SigTicketVolumeRising)
	if s == nil || s.Points < m.Signals.TicketVolumeRising.Points || s.Evidence.Field != "tickets_opened" ||
		!strings.Contains(s.Text, "median of 5.5 a week over the last 4 weeks, 2.8 times the usual 2 a week (the least counted as usual; the median of the 8 weeks before was 1.5)") || !strings.Contains(s.Text, "4 of the last 4 weeks") {
		t.Fatalf("tickets opened tripled for four weeks: %+v", s)
	}
	busy := withTickets(7, 8, 6, 9)
	for i := range busy[:10] {
		busy[i].TicketsOpened = snapshot.Some(3)
	}
	if s := findSignal(m.Score(busy, time.Time{}), SigTicketVolumeRising); s == nil || !strings.Contains(s.Text, "2.5 times the usual 3 a week (the median of the 8 weeks before)") {
		t.Errorf("a busy account's tickets up 2.5 times: %+v", s)
	}
	for name, recent := range map[string][]int{"one busy week": {1, 2, 12, 1}, "a little above the usual": {2, 3, 2, 3}} {
		if s := findSignal(m.Score(withTickets(recent...), time.Time{}), SigTicketVolumeRising); s != nil {
			t.Errorf("%s: %q", name, s.Text)
		}
	}
	if s := findSignal(m.Score(steady("V1", 14), time.Time{}), SigTicketVolumeRising); s != nil {
		t.Errorf("without tickets_opened: %q", s.Text)
	}
}

func TestLoginRecency(t *testing.T) {
	m := DefaultModel()
	rows := steady("LR", 12)
	last := rows[11].Week
	for i := range rows {
		rows[i].LastLoginDate = snapshot.Some(day(rows[i].Week, -1))
	}
	if s := findSignal(m.Score(rows, time.Time{}), SigLoginRecency); s != nil {
		t.Errorf("logged in yesterday: %q", s.Text)
	}
	rows[10].LastLoginDate, rows[11].LastLoginDate = snapshot.Some(day(last, -30)), snapshot.Some(day(last, -30))
	s := findSignal(m.Score(rows, time.Time{}), SigLoginRecency)
	if s == nil || s.Points <= m.Signals.LoginRecency.Points || !strings.Contains(s.Text, "30 days") || s.Evidence.Values[0] != 30 {
		t.Errorf("no login for 30 days: %+v", s)
	}
	// Over Christmas and New Year the whole portfolio is away.
	xmas := steady("XM", 12)
	for i := range xmas {
		xmas[i].Week = time.Date(2025, 10, 20, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 7*i) // the last week is 2026-01-05
		xmas[i].LastLoginDate = snapshot.Some(day(xmas[i].Week, -1))
	}
	xmas[11].LastLoginDate = snapshot.Some(time.Date(2025, 12, 22, 0, 0, 0, 0, time.UTC))
	if s := findSignal(m.Score(xmas, time.Time{}), SigLoginRecency); s != nil {
		t.Errorf("no login over the year-end holidays: %q", s.Text)
	}
	m.Windows.SkipYearEnd = false
	if s := findSignal(m.Score(xmas, time.Time{}), SigLoginRecency); s == nil {
		t.Error("without skip_year_end, 14 days without a login over the holidays raised nothing")
	}
}

func TestNPSNoResponse(t *testing.T) {
	m := DefaultModel()
	rows := steady("NR", 12)
	sent := day(rows[7].Week, 2)
	for i := range rows {
		rows[i].NPS = snapshot.Opt[int]{} // an answer is reported in its week only
	}
	rows[2].NPS = snapshot.Some(8)
	for i := 7; i < 12; i++ {
		rows[i].NPSSurveySent = snapshot.Some(sent)
	}
	s := findSignal(m.Score(rows, time.Time{}), SigNPSNoResponse)
	if s == nil || s.Dimension != DimRelationship || !strings.Contains(s.Text, snapshot.FormatDate(sent)) || !strings.Contains(s.Text, "26 days") ||
		!strings.Contains(s.Text, "answered the one before (8, week of "+snapshot.FormatDate(rows[2].Week)) {
		t.Fatalf("a survey unanswered for 26 days: %+v", s)
	}
	// A customer that never answers says nothing by not answering again.
	rows[2].NPS = snapshot.Opt[int]{}
	if s := findSignal(m.Score(rows, time.Time{}), SigNPSNoResponse); s != nil {
		t.Errorf("a customer that never answered: %q", s.Text)
	}
	rows[2].NPS = snapshot.Some(8)
	rows[9].NPS = snapshot.Some(8)
	if s := findSignal(m.Score(rows, time.Time{}), SigNPSNoResponse); s != nil {
		t.Errorf("an answer after the survey: %q", s.Text)
	}
	rows[9].NPS = snapshot.Opt[int]{}
	if s := findSignal(m.Score(rows[:10], time.Time{}), SigNPSNoResponse); s != nil {
		t.Errorf("12 days after the survey: %q", s.Text)
	}
}

func TestARRDecline(t *testing.T) {
	m := DefaultModel()
	// Lower ARR while fewer people use the product: a loss, fully scored.
	rows := steady("AD", 14)
	for i := 11; i < 14; i++ {
		rows[i].ARR = 90000
		rows[i].ActiveUsers = snapshot.Some(33)
	}
	s := findSignal(m.Score(rows, time.Time{}), SigARRDecline)
	if s == nil || s.Points < m.Signals.ARRDecline.Points || !strings.Contains(s.Text, "ARR fell 25%") || !strings.Contains(s.Text, "120000") {
		t.Fatalf("ARR down a quarter: %+v", s)
	}
	// One week's correction is not a decline.
	blip := steady("AB", 14)
	blip[13].ARR = 90000
	if s := findSignal(m.Score(blip, time.Time{}), SigARRDecline); s != nil {
		t.Errorf("a one-week dip: %q", s.Text)
	}
	// Unused seats cut while usage holds: right-sizing, listed for no points.
	trim := steady("AT", 14)
	for i := 11; i < 14; i++ {
		trim[i].ARR, trim[i].LicensedSeats = 100000, snapshot.Some(42)
	}
	if a := m.Score(trim, time.Time{}); a.Score != 0 || findSignal(a, SigARRDecline) == nil || !strings.Contains(findSignal(a, SigARRDecline).Text, "right-sizing") {
		t.Errorf("right-sizing: score %d, %+v", a.Score, findSignal(a, SigARRDecline))
	}
	// The same cut while an invoice is two months overdue is distress.
	for i := 11; i < 14; i++ {
		trim[i].OverdueInvoiceDays = snapshot.Some(60)
	}
	if s := findSignal(m.Score(trim, time.Time{}), SigARRDecline); s == nil || s.Points <= m.Signals.ARRDecline.Points || !strings.Contains(s.Text, "commercial distress") {
		t.Errorf("distress: %+v", s)
	}
}

func TestMeetingsMissed(t *testing.T) {
	m := DefaultModel()
	rows := steady("MM", 12)
	for i := range rows {
		rows[i].MeetingsMissed = snapshot.Some(0)
	}
	rows[9].MeetingsMissed, rows[11].MeetingsMissed = snapshot.Some(1), snapshot.Some(2)
	s := findSignal(m.Score(rows, time.Time{}), SigMeetingsMissed)
	if s == nil || s.Dimension != DimRelationship || !strings.Contains(s.Text, "3 meetings") || len(s.Evidence.Weeks) != 2 {
		t.Fatalf("3 meetings missed in 4 weeks: %+v", s)
	}
	rows[9].MeetingsMissed = snapshot.Some(0)
	rows[11].MeetingsMissed = snapshot.Some(1)
	if s := findSignal(m.Score(rows, time.Time{}), SigMeetingsMissed); s != nil {
		t.Errorf("one missed meeting: %q", s.Text)
	}
}
