package risk

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
)

// firstWeek is a Monday; week(i) is i weeks later.
var firstWeek = time.Date(2026, 8, 3, 0, 0, 0, 0, time.UTC)

func week(i int) time.Time { return firstWeek.AddDate(0, 0, 7*i) }

func day(t time.Time, days int) time.Time { return t.AddDate(0, 0, days) }

// steady returns n weeks of a healthy, fully reported account.
func steady(id string, n int) []snapshot.Snapshot {
	rows := make([]snapshot.Snapshot, n)
	for i := range rows {
		w := week(i)
		rows[i] = snapshot.Snapshot{
			AccountID: id, AccountName: "Acct " + id, Week: w, Owner: "dana", ARR: 120000,
			RenewalDate:          snapshot.Some(day(week(n-1), 200)),
			Logins:               snapshot.Some(118 + (i*7)%5),
			ActiveUsers:          snapshot.Some(40 + i%2),
			LicensedSeats:        snapshot.Some(50),
			DAUMAU:               snapshot.Some(0.42 + float64(i%3)/100),
			FeatureAdoption:      snapshot.Some(0.6),
			OpenTickets:          snapshot.Some(1),
			CriticalOpenTickets:  snapshot.Some(0),
			OldestOpenTicketDays: snapshot.Some(3),
			Escalations:          snapshot.Some(0),
			IntegrationErrors:    snapshot.Some(0),
			UsersDeactivated:     snapshot.Some(0),
			ChampionDeparted:     snapshot.Some(false),
			LastExecContact:      snapshot.Some(day(w, -10)),
			LastCSMMeeting:       snapshot.Some(day(w, -7)),
			NPS:                  snapshot.Some(9),
			OverdueInvoiceDays:   snapshot.Some(0),
			DowngradeRequested:   snapshot.Some(false),
			SuccessGoal:          "cut onboarding time in half",
			GoalStatus:           snapshot.GoalOnTrack,
			Language:             "en",
		}
	}
	return rows
}

// textbook is the case the product was written for: logins down 38% over
// three weeks, the sponsor silent six weeks, a critical ticket open 47
// days, three users deactivated, renewal in 67 days.
func textbook() []snapshot.Snapshot {
	rows := steady("A-1", 12)
	for i := range rows {
		rows[i].Logins = snapshot.Some(120)
	}
	last := rows[11].Week
	rows[9].Logins = snapshot.Some(100)
	rows[10].Logins = snapshot.Some(85)
	rows[11].Logins = snapshot.Some(74)
	for i := 6; i < 12; i++ {
		rows[i].LastExecContact = snapshot.Some(day(last, -42))
	}
	rows[11].CriticalOpenTickets = snapshot.Some(1)
	rows[11].OpenTickets = snapshot.Some(3)
	rows[11].OldestOpenTicketDays = snapshot.Some(47)
	rows[10].UsersDeactivated = snapshot.Some(2)
	rows[11].UsersDeactivated = snapshot.Some(1)
	for i := range rows {
		rows[i].RenewalDate = snapshot.Some(day(last, 67))
	}
	rows[11].Notes = "Sponsor moved to a new role; ops lead asked about export."
	return rows
}

func signalIDs(a Assessment) []string {
	var ids []string
	for _, s := range a.Signals {
		ids = append(ids, s.ID)
	}
	return ids
}

func TestTextbookCaseIsCritical(t *testing.T) {
	m := DefaultModel()
	a := m.Score(textbook(), time.Time{})
	if a.Tier != Critical {
		t.Fatalf("tier = %s (score %d), want critical; signals %v dims %v", a.Tier, a.Score, signalIDs(a), a.Dimensions)
	}
	for _, id := range []string{SigLoginDrop, SigExecSponsorSilence, SigCriticalTicketOpen, SigUsersDeactivated} {
		if !slices.Contains(signalIDs(a), id) {
			t.Errorf("missing signal %s; got %v", id, signalIDs(a))
		}
	}
	for _, s := range a.Signals {
		if s.ID == SigLoginDrop && !strings.Contains(s.Text, "38%") {
			t.Errorf("login_drop text %q does not give the 38%% drop", s.Text)
		}
		if s.ID == SigExecSponsorSilence && !strings.Contains(s.Text, "42 days") {
			t.Errorf("exec_sponsor_silence text %q does not give 42 days", s.Text)
		}
		if s.ID == SigCriticalTicketOpen && !strings.Contains(s.Text, "47 days") {
			t.Errorf("critical_ticket_open text %q does not give 47 days", s.Text)
		}
	}
	if a.RenewalDate != "2026-12-25" || a.AsOf != "2026-10-19" {
		t.Errorf("renewal %s as of %s", a.RenewalDate, a.AsOf)
	}
	if a.SLAHours != 48 || a.ModelVersion != ModelVersion || a.ConfigHash != m.Hash() {
		t.Errorf("sla %d version %q hash %q", a.SLAHours, a.ModelVersion, a.ConfigHash)
	}
	if len(a.Notes) != 1 || !strings.Contains(a.Notes[0], "Sponsor moved") {
		t.Errorf("notes = %q", a.Notes)
	}
	if len(a.Missing) != 0 {
		t.Errorf("missing = %v, want none", a.Missing)
	}
}

func TestSteadyAccountIsHealthy(t *testing.T) {
	a := DefaultModel().Score(steady("A-2", 20), time.Time{})
	if a.Tier != Healthy || a.Score != 0 {
		t.Fatalf("tier %s score %d signals %v", a.Tier, a.Score, signalIDs(a))
	}
}

func TestHolidayWeekStaysBelowElevated(t *testing.T) {
	m := DefaultModel()
	for pos := 0; pos < 3; pos++ { // the holiday in each week of the recent window
		rows := steady("A-3", 14)
		i := 13 - pos
		rows[i].Logins = snapshot.Some(rows[i].Logins.V * 3 / 10)
		rows[i].ActiveUsers = snapshot.Some(rows[i].ActiveUsers.V * 3 / 10)
		rows[i].DAUMAU = snapshot.Some(rows[i].DAUMAU.V * 0.3)
		a := m.Score(rows, time.Time{})
		if a.Tier.AtRisk() || a.Score >= m.Thresholds.Elevated {
			t.Errorf("holiday %d weeks back: tier %s score %d signals %v", pos, a.Tier, a.Score, signalIDs(a))
		}
		if slices.Contains(signalIDs(a), SigLoginDrop) {
			t.Errorf("holiday %d weeks back raised login_drop", pos)
		}
	}
}

func TestSustainedDropFires(t *testing.T) {
	rows := steady("A-4", 14)
	rows[11].Logins = snapshot.Some(70)
	rows[12].Logins = snapshot.Some(60)
	rows[13].Logins = snapshot.Some(55)
	a := DefaultModel().Score(rows, time.Time{})
	if !slices.Contains(signalIDs(a), SigLoginDrop) {
		t.Fatalf("three weeks well below the baseline did not raise login_drop: %v", signalIDs(a))
	}
	// Two bad weeks (an outage, a short break) are not yet a trend.
	rows = steady("A-4", 14)
	rows[12].Logins = snapshot.Some(50)
	rows[13].Logins = snapshot.Some(50)
	if a := DefaultModel().Score(rows, time.Time{}); slices.Contains(signalIDs(a), SigLoginDrop) {
		t.Fatalf("two bad weeks raised login_drop: %v", signalIDs(a))
	}
}

func TestSeasonalDipIsDiscounted(t *testing.T) {
	m := DefaultModel()
	rows := steady("A-5", 70)
	// Every December logins halve for three weeks: last year and this year.
	dip := func(i int) { rows[i].Logins = snapshot.Some(rows[i].Logins.V / 2) }
	end := 69
	for _, i := range []int{end, end - 1, end - 2, end - 52, end - 53, end - 54} {
		dip(i)
	}
	a := m.Score(rows, time.Time{})
	if slices.Contains(signalIDs(a), SigLoginDrop) {
		t.Errorf("a dip repeated from last year raised login_drop: %+v", a.Signals)
	}
	// A dip much deeper than last year's still fires, and says so.
	deeper := slices.Clone(rows)
	for _, i := range []int{end, end - 1, end - 2} {
		deeper[i].Logins = snapshot.Some(steady("A-5", 70)[i].Logins.V / 6)
	}
	c := m.Score(deeper, time.Time{})
	fired := false
	for _, s := range c.Signals {
		if s.ID == SigLoginDrop {
			fired = true
			if !strings.Contains(s.Text, "last year") {
				t.Errorf("seasonal text does not mention last year: %q", s.Text)
			}
		}
	}
	if !fired {
		t.Errorf("a dip three times last year's did not fire: %v", signalIDs(c))
	}
	// Without last year's dip the same drop is a signal.
	rows2 := steady("A-5", 70)
	for _, i := range []int{end, end - 1, end - 2} {
		rows2[i].Logins = snapshot.Some(rows2[i].Logins.V / 2)
	}
	if b := m.Score(rows2, time.Time{}); !slices.Contains(signalIDs(b), SigLoginDrop) {
		t.Errorf("a new dip did not raise login_drop: %v", signalIDs(b))
	}
}

func TestUnknownUsageIsInsufficientEvidence(t *testing.T) {
	rows := steady("A-6", 12)
	for i := range rows {
		rows[i].Logins = snapshot.Opt[int]{}
		rows[i].ActiveUsers = snapshot.Opt[int]{}
		rows[i].DAUMAU = snapshot.Opt[float64]{}
		rows[i].FeatureAdoption = snapshot.Opt[float64]{}
	}
	a := DefaultModel().Score(rows, time.Time{})
	if a.Tier != InsufficientEvidence {
		t.Fatalf("tier = %s, want insufficient_evidence", a.Tier)
	}
	for _, f := range []string{"logins", "active_users", "dau_mau", "feature_adoption"} {
		if !slices.Contains(a.Missing, f) {
			t.Errorf("missing %v lacks %s", a.Missing, f)
		}
	}
}

func TestKnownRiskBeatsMissingEvidence(t *testing.T) {
	rows := textbook()
	for i := range rows {
		rows[i].DAUMAU = snapshot.Opt[float64]{}
		rows[i].NPS = snapshot.Opt[int]{}
		rows[i].GoalStatus = ""
		rows[i].OverdueInvoiceDays = snapshot.Opt[int]{}
		rows[i].DowngradeRequested = snapshot.Opt[bool]{}
	}
	a := DefaultModel().Score(rows, time.Time{})
	if !a.Tier.AtRisk() {
		t.Fatalf("tier = %s, want the known evidence's tier", a.Tier)
	}
	for _, f := range []string{"dau_mau", "nps", "goal_status", "overdue_invoice_days", "downgrade_requested"} {
		if !slices.Contains(a.Missing, f) {
			t.Errorf("missing %v lacks %s", a.Missing, f)
		}
	}
}

func TestStaleAccountIsNotHealthy(t *testing.T) {
	rows := steady("A-7", 10)
	a := DefaultModel().Score(rows, week(20))
	if a.Tier != InsufficientEvidence {
		t.Fatalf("an account with no rows for 10 weeks scored %s", a.Tier)
	}
}

func TestEverySignalHasEvidence(t *testing.T) {
	rows := textbook()
	last := len(rows) - 1
	for i := last - 2; i <= last; i++ {
		rows[i].ActiveUsers = snapshot.Some(12)
		rows[i].DAUMAU = snapshot.Some(0.1)
		rows[i].FeatureAdoption = snapshot.Some(0.2)
		rows[i].IntegrationErrors = snapshot.Some(30)
		rows[i].LastCSMMeeting = snapshot.Some(day(rows[last].Week, -90))
	}
	rows[last].ChampionDeparted = snapshot.Some(true)
	rows[last].NPS = snapshot.Some(3)
	rows[last].Escalations = snapshot.Some(2)
	rows[last].OverdueInvoiceDays = snapshot.Some(60)
	rows[last].DowngradeRequested = snapshot.Some(true)
	rows[last].GoalStatus = snapshot.GoalOffTrack
	a := DefaultModel().Score(rows, time.Time{})
	want := []string{SigLoginDrop, SigActiveUsersDrop, SigDAUMAUDecline, SigFeatureAdoptionDecline, SigSeatUtilisationLow,
		SigUsersDeactivated, SigChampionDeparted, SigExecSponsorSilence, SigCSMContactGap, SigNPSLow, SigNPSDrop,
		SigCriticalTicketOpen, SigEscalations, SigIntegrationErrors, SigInvoiceOverdue, SigDowngradeRequested, SigGoalOffTrack}
	got := signalIDs(a)
	for _, id := range want {
		if !slices.Contains(got, id) {
			t.Errorf("signal %s not raised; got %v", id, got)
		}
	}
	if a.Score != 100 || a.Tier != Critical {
		t.Errorf("score %d tier %s", a.Score, a.Tier)
	}
	for _, s := range a.Signals {
		ev := s.Evidence
		if ev.Field == "" || len(ev.Weeks) == 0 || len(ev.Weeks) != len(ev.Values) || s.Text == "" || s.Dimension == "" {
			t.Errorf("signal %s has incomplete evidence: %+v text %q", s.ID, ev, s.Text)
		}
		if !strings.HasSuffix(s.Text, ".") {
			t.Errorf("signal %s text is not a sentence: %q", s.ID, s.Text)
		}
	}
	for dim, p := range a.Dimensions {
		if p < 0 || p > 35 {
			t.Errorf("dimension %s = %d, outside its cap", dim, p)
		}
	}
}

func TestSilenceAndTicketsAlwaysFlagged(t *testing.T) {
	m := DefaultModel()
	m.Signals.ExecSponsorSilence.Points, m.Signals.ExecSponsorSilence.SeverePoints = 0, 0
	m.Signals.UnresolvedTickets.Points, m.Signals.UnresolvedTickets.SeverePoints = 0, 0
	rows := steady("A-8", 12)
	last := rows[11].Week
	rows[11].LastExecContact = snapshot.Some(day(last, -40))
	rows[11].OldestOpenTicketDays = snapshot.Some(30)
	a := m.Score(rows, time.Time{})
	for _, id := range []string{SigExecSponsorSilence, SigUnresolvedTickets} {
		if !slices.Contains(signalIDs(a), id) {
			t.Errorf("%s not flagged at zero points: %v", id, signalIDs(a))
		}
	}
}

func TestScoreIgnoresRowsAfterAsOfAndOrder(t *testing.T) {
	m := DefaultModel()
	rows := textbook()
	asOf := rows[11].Week
	extra := steady("A-1", 16)[12:] // four later, healthy weeks
	all := append(slices.Clone(rows), extra...)
	slices.Reverse(all)
	a := m.Score(all, asOf)
	b := m.Score(rows, time.Time{})
	if a.Score != b.Score || a.Tier != b.Tier || a.AsOf != b.AsOf {
		t.Errorf("shuffled with later rows: %d %s %s; sorted: %d %s %s", a.Score, a.Tier, a.AsOf, b.Score, b.Tier, b.AsOf)
	}
}

func TestScorePortfolioRanks(t *testing.T) {
	m := DefaultModel()
	var rows []snapshot.Snapshot
	rows = append(rows, steady("H", 12)...)
	rows = append(rows, textbook()...)
	unknown := steady("U", 12)
	for i := range unknown {
		unknown[i].Logins, unknown[i].ActiveUsers = snapshot.Opt[int]{}, snapshot.Opt[int]{}
		unknown[i].DAUMAU, unknown[i].FeatureAdoption = snapshot.Opt[float64]{}, snapshot.Opt[float64]{}
	}
	rows = append(rows, unknown...)
	big := textbook()
	for i := range big {
		big[i].AccountID = "B"
		big[i].ARR = 2_000_000
	}
	rows = append(rows, big...)
	slices.Reverse(rows)
	before := slices.Clone(rows)

	as := m.ScorePortfolio(rows, time.Time{})
	var order []string
	for i, a := range as {
		order = append(order, a.AccountID)
		if a.Priority != i+1 {
			t.Errorf("priority %d at position %d", a.Priority, i)
		}
	}
	if want := []string{"B", "A-1", "U", "H"}; !slices.Equal(order, want) {
		t.Errorf("order = %v, want %v", order, want)
	}
	for i := range rows {
		if rows[i].AccountID != before[i].AccountID || !rows[i].Week.Equal(before[i].Week) {
			t.Fatal("ScorePortfolio modified its input")
		}
	}
	groups := GroupByAccount(rows)
	if len(groups) != 4 {
		t.Fatalf("%d groups", len(groups))
	}
	for _, g := range groups {
		for i := 1; i < len(g); i++ {
			if g[i].AccountID != g[0].AccountID || g[i].Week.Before(g[i-1].Week) {
				t.Fatal("group not one account sorted by week")
			}
		}
	}
}

func TestRenewalProximityRaisesUrgencyNotScore(t *testing.T) {
	m := DefaultModel()
	near, far := textbook(), textbook()
	for i := range near {
		near[i].RenewalDate = snapshot.Some(day(near[11].Week, 20))
		far[i].RenewalDate = snapshot.Some(day(far[11].Week, 400))
	}
	a, b := m.Score(near, time.Time{}), m.Score(far, time.Time{})
	if a.Score != b.Score {
		t.Errorf("renewal changed the score: %d vs %d", a.Score, b.Score)
	}
	if a.Urgency <= b.Urgency {
		t.Errorf("near renewal urgency %v <= far %v", a.Urgency, b.Urgency)
	}
}

func TestScorePortfolioAsOfBeforeAnAccountStarts(t *testing.T) {
	rows := append(steady("OLD", 12), steady("NEW", 12)...)
	for i := 12; i < 24; i++ {
		rows[i].Week = week(i) // NEW starts after OLD's last week
	}
	as := DefaultModel().ScorePortfolio(rows, week(11))
	if len(as) != 1 || as[0].AccountID != "OLD" {
		t.Fatalf("as of week 11: %d assessments, first %q", len(as), as[0].AccountID)
	}
	if got := len(DefaultModel().ScorePortfolio(rows, time.Time{})); got != 2 {
		t.Fatalf("latest week: %d assessments", got)
	}
}

func TestTinyCountsMakeNoTrend(t *testing.T) {
	rows := steady("A-9", 14)
	for i := range rows {
		rows[i].Logins = snapshot.Some(2)
	}
	for i := 10; i < 14; i++ {
		rows[i].Logins = snapshot.Some(0)
	}
	if a := DefaultModel().Score(rows, time.Time{}); slices.Contains(signalIDs(a), SigLoginDrop) {
		t.Errorf("2 logins a week falling to 0 raised login_drop: %+v", a.Signals)
	}
}

// TestScorePortfolioMatchesScore checks the parallel portfolio path against
// scoring each account alone (run with -race to check the workers too).
func TestScorePortfolioMatchesScore(t *testing.T) {
	m := DefaultModel()
	var rows []snapshot.Snapshot
	for i := 0; i < 600; i++ {
		h := steady("P-"+strconv.Itoa(i), 12)
		if i%3 == 0 {
			h = textbook()
			for j := range h {
				h[j].AccountID = "P-" + strconv.Itoa(i)
				h[j].ARR = float64(1000 * i)
			}
		}
		rows = append(rows, h...)
	}
	as := m.ScorePortfolio(rows, time.Time{})
	if len(as) != 600 {
		t.Fatalf("%d assessments", len(as))
	}
	for i, g := range GroupByAccount(rows) {
		want := m.Score(g, week(11))
		var got *Assessment
		for j := range as {
			if as[j].AccountID == want.AccountID {
				got = &as[j]
			}
		}
		if got == nil || got.Score != want.Score || got.Tier != want.Tier || len(got.Signals) != len(want.Signals) || got.Urgency != want.Urgency {
			t.Fatalf("group %d: portfolio %+v, alone %+v", i, got, want)
		}
	}
	for i := 1; i < len(as); i++ {
		if as[i].Tier.Rank() < as[i-1].Tier.Rank() || as[i].Tier.Rank() == as[i-1].Tier.Rank() && as[i].Urgency > as[i-1].Urgency {
			t.Fatalf("not ranked at %d: %s %.2f after %s %.2f", i, as[i].Tier, as[i].Urgency, as[i-1].Tier, as[i-1].Urgency)
		}
	}
}

func TestTrendTextGivesTheNumbers(t *testing.T) {
	a := DefaultModel().Score(textbook(), time.Time{})
	for _, s := range a.Signals {
		if s.ID == SigLoginDrop {
			want := "Logins fell 38% below the 8-week baseline (120/wk to 74/wk in the week of 2026-10-19); 3 of the last 4 weeks were down 8% or more."
			if s.Text != want {
				t.Errorf("text\n got %q\nwant %q", s.Text, want)
			}
			return
		}
	}
	t.Fatal("no login_drop")
}

func TestYearEndWeeksAreLeftOut(t *testing.T) {
	// Logins halve over Christmas and New Year; the weeks are left out.
	rows := steady("A-10", 16)
	for i := range rows {
		rows[i].Week = time.Date(2025, 10, 13, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 7*i) // week 10 is 2025-12-22
	}
	for _, i := range []int{10, 11} {
		rows[i].Logins = snapshot.Some(rows[i].Logins.V * 45 / 100)
		rows[i].ActiveUsers = snapshot.Some(rows[i].ActiveUsers.V * 45 / 100)
	}
	rows[12].Logins = snapshot.Some(rows[12].Logins.V * 85 / 100) // a slow first week back
	m := DefaultModel()
	if a := m.Score(rows[:13], time.Time{}); slices.Contains(signalIDs(a), SigLoginDrop) {
		t.Errorf("the year-end weeks raised login_drop: %+v", a.Signals)
	}
	m.Windows.SkipYearEnd = false
	if a := m.Score(rows[:13], time.Time{}); !slices.Contains(signalIDs(a), SigLoginDrop) {
		t.Errorf("without skip_year_end the same weeks did not raise login_drop: %v", signalIDs(a))
	}
}

func TestCommonDipIsReadAgainstPeers(t *testing.T) {
	// Every account's logins fall 35% for three weeks (a regional holiday):
	// alone each looks like a decline, against its peers none is.
	var rows []snapshot.Snapshot
	for i := 0; i < 40; i++ {
		h := steady("P-"+strconv.Itoa(i), 14)
		for j := 11; j < 14; j++ {
			h[j].Logins = snapshot.Some(h[j].Logins.V * 65 / 100)
		}
		rows = append(rows, h...)
	}
	m := DefaultModel()
	if a := m.Score(rows[:14], time.Time{}); !slices.Contains(signalIDs(a), SigLoginDrop) {
		t.Fatalf("alone, a 35%% drop did not raise login_drop: %v", signalIDs(a))
	}
	for _, a := range m.ScorePortfolio(rows, time.Time{}) {
		if slices.Contains(signalIDs(a), SigLoginDrop) {
			t.Fatalf("%s: a dip every peer had raised login_drop: %+v", a.AccountID, a.Signals)
		}
	}
}

func TestFreshCriticalTicketIsListedWithoutPoints(t *testing.T) {
	rows := steady("A-11", 12)
	rows[11].CriticalOpenTickets = snapshot.Some(1)
	rows[11].OldestOpenTicketDays = snapshot.Some(2)
	a := DefaultModel().Score(rows, time.Time{})
	if !slices.Contains(signalIDs(a), SigCriticalTicketOpen) || a.Score != 0 {
		t.Errorf("a 2-day-old critical ticket: signals %v score %d; want listed for 0 points", signalIDs(a), a.Score)
	}
}

func TestSilenceIsJudgedAgainstTheUsualRhythm(t *testing.T) {
	m := DefaultModel()
	weekly := steady("A-12", 20)
	last := weekly[19].Week
	for i := 14; i < 20; i++ {
		weekly[i].LastExecContact = snapshot.Some(day(last, -60))
	}
	quarterly := steady("A-13", 20)
	for i := range quarterly {
		switch {
		case i < 8:
			quarterly[i].LastExecContact = snapshot.Some(day(last, -150))
		case i < 14:
			quarterly[i].LastExecContact = snapshot.Some(day(last, -60-90)) // unchanged: 90-day gaps
		default:
			quarterly[i].LastExecContact = snapshot.Some(day(last, -60))
		}
	}
	quarterly[8].LastExecContact = snapshot.Some(day(last, -150))
	points := func(a Assessment) int {
		for _, s := range a.Signals {
			if s.ID == SigExecSponsorSilence {
				return s.Points
			}
		}
		return -1
	}
	w, q := points(m.Score(weekly, time.Time{})), points(m.Score(quarterly, time.Time{}))
	if w <= 0 || q < 0 || q >= w {
		t.Errorf("60 days of silence: %d points for a weekly sponsor, %d for one with 90-day gaps; want both listed, fewer for the second", w, q)
	}
}

func TestSilenceOffARegularRhythmFiresBeforeTheThreshold(t *testing.T) {
	m := DefaultModel()
	// Met every week, then nothing for 28 days: below the 45-day
	// threshold, but four times the longest gap of the half year before.
	weekly := steady("A-15", 20)
	last := weekly[19].Week
	for i := 16; i < 20; i++ {
		weekly[i].LastCSMMeeting = snapshot.Some(day(last, -28))
	}
	// Met every five weeks or so: 28 days is its ordinary gap.
	monthly := steady("A-16", 20)
	for i := range monthly {
		monthly[i].LastCSMMeeting = snapshot.Some(day(last, -28-35*((19-i)/5)))
	}
	find := func(a Assessment) *Signal {
		for i := range a.Signals {
			if a.Signals[i].ID == SigCSMContactGap {
				return &a.Signals[i]
			}
		}
		return nil
	}
	s := find(m.Score(weekly, time.Time{}))
	if s == nil || s.Points < m.Signals.CSMContactGap.Points || !strings.Contains(s.Text, "28 days") || !strings.Contains(s.Text, "longest gap") {
		t.Errorf("a weekly meeting lapsed for 28 days: %+v; want csm_contact_gap scored, citing the 28 days and the longest earlier gap", s)
	}
	if s := find(m.Score(monthly, time.Time{})); s != nil {
		t.Errorf("28 days for a customer met every five weeks: %+v; want no signal", s)
	}
	off := m
	off.Windows.RhythmFactor = 0
	if s := find(off.Score(weekly, time.Time{})); s != nil {
		t.Errorf("rhythm_factor 0: %+v; want only the fixed threshold", s)
	}
}

func TestRightSizingIsDiscounted(t *testing.T) {
	rows := steady("A-14", 14)
	rows[11].DowngradeRequested = snapshot.Some(true)
	rows[12].LicensedSeats = snapshot.Some(42)
	rows[13].LicensedSeats = snapshot.Some(42)
	rows[12].UsersDeactivated = snapshot.Some(5)
	a := DefaultModel().Score(rows, time.Time{})
	if a.Tier.AtRisk() || !slices.Contains(signalIDs(a), SigDowngradeRequested) {
		t.Errorf("cutting unused seats while active users hold: tier %s signals %v", a.Tier, signalIDs(a))
	}
}

// TestRankOrdersAndNumbers ranks shuffled assessments, ties included, and
// checks the order and the priorities against a plain stable sort.
func TestRankOrdersAndNumbers(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	tiers := []Tier{Critical, Elevated, Watch, Healthy, InsufficientEvidence}
	for n := range 60 {
		as := make([]Assessment, n)
		for i := range as {
			as[i] = Assessment{AccountID: "A-" + strconv.Itoa(rnd.IntN(n+1)), Tier: tiers[rnd.IntN(len(tiers))],
				Urgency: float64(rnd.IntN(3)), ARR: float64(1000 * rnd.IntN(3)), Score: i}
		}
		want := slices.Clone(as)
		slices.SortStableFunc(want, func(x, y Assessment) int {
			if d := x.Tier.Rank() - y.Tier.Rank(); d != 0 {
				return d
			}
			if d := cmp.Compare(y.Urgency, x.Urgency); d != 0 {
				return d
			}
			if d := cmp.Compare(y.ARR, x.ARR); d != 0 {
				return d
			}
			return strings.Compare(x.AccountID, y.AccountID)
		})
		Rank(as)
		for i := range as {
			if as[i].Score != want[i].Score || as[i].Priority != i+1 {
				t.Fatalf("n=%d: place %d holds %+v (priority %d), want the assessment scored %d", n, i, as[i], as[i].Priority, want[i].Score)
			}
		}
	}
}

// TestWriteTableAlignsWideNames prints a report with Chinese and accented
// names: every owner must start in the same terminal column.
func TestWriteTableAlignsWideNames(t *testing.T) {
	r := Report{AsOf: "2026-11-16", Accounts: []Assessment{
		{AccountID: "A-1", AccountName: "上海云帆数据", Owner: "priya", Tier: Critical, Score: 91, Priority: 1},
		{AccountID: "A-2", AccountName: "Northwind Freight", Owner: "dana", Tier: Watch, Score: 30, Priority: 2},
		{AccountID: "A-3", AccountName: "Atelier Moreau SA — Café", Owner: "marco", Tier: Healthy, Score: 0, Priority: 3},
	}}
	var b strings.Builder
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")[2:6]
	col := -1
	for i, owner := range []string{"OWNER", "priya", "dana", "marco"} {
		at := strings.Index(lines[i], owner)
		if at < 0 {
			t.Fatalf("line %q lacks %s", lines[i], owner)
		}
		c := displayWidth(lines[i][:at])
		if col >= 0 && c != col {
			t.Errorf("%s starts at column %d, OWNER at %d:\n%s", owner, c, col, strings.Join(lines, "\n"))
		}
		col = c
	}
}

// TestWriteTableShowsUrgencyAndScoredSignals: the table shows the urgency it
// is ranked by, and its short list of signals leaves out those worth no
// points (a young critical ticket is listed in the JSON, not here).
func TestWriteTableShowsUrgencyAndScoredSignals(t *testing.T) {
	sig := func(id string, points int) Signal { return Signal{ID: id, Points: points} }
	r := Report{AsOf: "2026-11-16", Accounts: []Assessment{
		{AccountID: "A-1", Owner: "priya", Tier: Critical, Score: 91, Priority: 1, Urgency: 143.27, Signals: []Signal{
			sig("login_drop", 29), sig("critical_ticket_open", 0), sig("usage_slide", 20), sig("nps_low", 8), sig("escalations", 0), sig("goal_at_risk", 8)}},
		{AccountID: "A-2", Owner: "dana", Tier: Watch, Score: 30, Priority: 2, Urgency: 31, Signals: []Signal{
			sig("critical_ticket_open", 0), sig("exec_sponsor_silence", 16)}},
	}}
	var b strings.Builder
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	if !strings.Contains(lines[2], "URGENCY") {
		t.Fatalf("header %q lacks URGENCY", lines[2])
	}
	for _, tc := range []struct{ line, urgency, signals string }{
		{lines[3], "143.3", "login_drop(29), usage_slide(20), nps_low(8), +1 more"},
		{lines[4], "31.0", "exec_sponsor_silence(16)"},
	} {
		if f := strings.Fields(tc.line); len(f) < 3 || f[2] != tc.urgency {
			t.Errorf("line %q: urgency column, want %s", tc.line, tc.urgency)
		}
		if !strings.HasSuffix(tc.line, tc.signals) {
			t.Errorf("line %q: want signals %q", tc.line, tc.signals)
		}
	}
	if strings.Contains(b.String(), "(0)") {
		t.Errorf("a 0-point signal is listed:\n%s", b.String())
	}
}

// TestSortingNetworks checks each network on every input of 0s and 1s,
// which by the 0-1 principle proves it sorts any input, and median
// against a plain sort on random weeks.
func TestSortingNetworks(t *testing.T) {
	for _, n := range []int{4, 8, 12} {
		for bits := 0; bits < 1<<n; bits++ {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = float64(bits >> i & 1)
			}
			switch n {
			case 4:
				sort4((*[4]float64)(xs))
			case 8:
				sort8((*[8]float64)(xs))
			case 12:
				sort12((*[12]float64)(xs))
			}
			if !sort.Float64sAreSorted(xs) {
				t.Fatalf("network %d leaves %v unsorted", n, xs)
			}
		}
	}
	rnd := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		xs := make([]float64, 1+rnd.IntN(14))
		for i := range xs {
			xs[i] = float64(rnd.IntN(50)) / 7
		}
		want := slices.Clone(xs)
		sort.Float64s(want)
		got := median(slices.Clone(xs))
		n := len(want)
		m := want[n/2]
		if n%2 == 0 {
			m = (want[n/2-1] + want[n/2]) / 2
		}
		if got != m {
			t.Fatalf("median(%v) = %v, want %v", xs, got, m)
		}
	}
}

// TestRankLargeBook ranks a book large enough to be sorted in two halves
// on two cores: the order must be the one a single sort gives, ties and all.
func TestRankLargeBook(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	tiers := []Tier{Critical, Elevated, Watch, Healthy, InsufficientEvidence}
	as := make([]Assessment, 30000)
	for i := range as {
		as[i] = Assessment{AccountID: "A-" + strconv.Itoa(rnd.IntN(20000)), Tier: tiers[rnd.IntN(len(tiers))],
			Urgency: float64(rnd.IntN(50)), ARR: float64(1000 * rnd.IntN(5)), Score: i}
	}
	want := slices.Clone(as)
	slices.SortStableFunc(want, func(x, y Assessment) int {
		return byUrgency(rankKey{band: x.Tier.Rank(), urgency: x.Urgency, arr: x.ARR, id: x.AccountID},
			rankKey{band: y.Tier.Rank(), urgency: y.Urgency, arr: y.ARR, id: y.AccountID})
	})
	Rank(as)
	for i := range as {
		if as[i].Score != want[i].Score || as[i].Priority != i+1 {
			t.Fatalf("position %d: %s (score %d, priority %d), want %s (score %d)", i, as[i].AccountID, as[i].Score, as[i].Priority, want[i].AccountID, want[i].Score)
		}
	}
}
