package risk

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
)

// dip cuts logins, active users and DAU/MAU of rows[from..to] to the share
// f of their value, as a term break or a fiscal close does.
func dip(rows []snapshot.Snapshot, from, to int, f float64) {
	for i := from; i <= to; i++ {
		r := &rows[i]
		r.Logins = snapshot.Some(int(float64(r.Logins.V) * f))
		r.ActiveUsers = snapshot.Some(int(float64(r.ActiveUsers.V)*f + 0.5))
		r.DAUMAU = snapshot.Some(r.DAUMAU.V * f)
	}
}

// TestThreeWeekDipStaysAtWatch: usage down 40% for three weeks, with the
// goal marked at risk during the dip or a detractor's NPS, and nothing
// else. It is what a term break looks like: the account stays at watch,
// and the usage signal says why. Without corroboration it would be
// elevated (usage alone never is), so the test can tell the two apart.
func TestThreeWeekDipStaysAtWatch(t *testing.T) {
	m := DefaultModel()
	off := m
	off.Corroboration.UsageWeeks = 0
	for _, extra := range []string{"goal at risk", "detractor"} {
		rows := steady("DIP", 16)
		last := len(rows) - 1
		dip(rows, last-2, last, 0.6)
		switch extra {
		case "goal at risk":
			rows[last].GoalStatus = snapshot.GoalAtRisk
		case "detractor":
			rows[last].NPS = snapshot.Some(5)
		}
		a := m.Score(rows, time.Time{})
		if a.Tier != Watch {
			t.Errorf("3-week dip, %s: tier %s (score %d), want watch; dims %v signals %v", extra, a.Tier, a.Score, a.Dimensions, texts(a))
		}
		if a.Dimensions[DimUsage] != m.Corroboration.UsageCap {
			t.Errorf("3-week dip, %s: usage %d points, want the cap %d", extra, a.Dimensions[DimUsage], m.Corroboration.UsageCap)
		}
		if len(a.Signals) == 0 || a.Signals[0].Dimension != DimUsage || !strings.Contains(a.Signals[0].Text, "down together only 3 weeks in a row") {
			t.Errorf("3-week dip, %s: the strongest usage signal does not say why it is held: %v", extra, texts(a))
		}
		if b := off.Score(rows, time.Time{}); !b.Tier.AtRisk() {
			t.Errorf("3-week dip, %s, corroboration off: tier %s (score %d), want elevated: the test cannot fail", extra, b.Tier, b.Score)
		}
		// The week after, usage is back: the dip is over, whatever the
		// recent median still says.
		rows = append(rows, steady("DIP", 17)[16])
		if extra == "goal at risk" {
			rows[last+1].GoalStatus = snapshot.GoalAtRisk
		}
		if a := m.Score(rows, time.Time{}); a.Tier.AtRisk() {
			t.Errorf("dip recovered, %s: tier %s (score %d), want below elevated; signals %v", extra, a.Tier, a.Score, texts(a))
		}
	}
}

// TestPersistentOrCorroboratedDeclineIsElevated: the same 40% drop, with
// the goal at risk, is elevated once it has lasted
// corroboration.usage_weeks, or when the other dimensions score
// corroboration.min_points beside it.
func TestPersistentOrCorroboratedDeclineIsElevated(t *testing.T) {
	m := DefaultModel()
	rows := steady("PD", 16)
	last := len(rows) - 1
	dip(rows, last-3, last, 0.6)
	rows[last].GoalStatus = snapshot.GoalAtRisk
	if a := m.Score(rows, time.Time{}); !a.Tier.AtRisk() {
		t.Errorf("usage down 40%% for 4 weeks: tier %s (score %d), want elevated; signals %v", a.Tier, a.Score, texts(a))
	}
	for _, corroborated := range []bool{false, true} {
		rows := steady("CD", 16)
		dip(rows, last-2, last, 0.6)
		rows[last].GoalStatus = snapshot.GoalOffTrack // 18 points
		rows[last].OverdueInvoiceDays = snapshot.Some(0)
		if !corroborated {
			rows[last].GoalStatus = snapshot.GoalAtRisk // 8 points
		}
		a := m.Score(rows, time.Time{})
		if a.Tier.AtRisk() != corroborated {
			t.Errorf("3-week dip, goal %s: tier %s (score %d); dims %v", rows[last].GoalStatus, a.Tier, a.Score, a.Dimensions)
		}
	}
}

// TestOneSeriesSaggingIsTransient: logins alone down 30% for four weeks,
// active users and DAU/MAU holding, is one series, not a decline that has
// lasted: with a detractor's answer beside it the account stays at watch,
// and with more beside it the logins add no convergence points.
func TestOneSeriesSaggingIsTransient(t *testing.T) {
	m := DefaultModel()
	off := m
	off.Corroboration.UsageWeeks = 0
	rows := steady("OS", 16)
	last := len(rows) - 1
	for i := last - 3; i <= last; i++ {
		rows[i].Logins = snapshot.Some(rows[i].Logins.V * 7 / 10)
	}
	rows[last].NPS = snapshot.Some(5)
	a, b := m.Score(rows, time.Time{}), off.Score(rows, time.Time{})
	if !slices.Contains(signalIDs(a), SigLoginDrop) || a.Tier.AtRisk() || !b.Tier.AtRisk() {
		t.Errorf("logins alone down 30%%, NPS 5: tier %s (score %d), without corroboration %s (%d); want watch and elevated; signals %v",
			a.Tier, a.Score, b.Tier, b.Score, texts(a))
	}
	if text := signalText(a, SigLoginDrop); !strings.Contains(text, "not down together in the latest week") {
		t.Errorf("login_drop does not say why it is held: %q", text)
	}
	rows[last].GoalStatus = snapshot.GoalAtRisk
	a, b = m.Score(rows, time.Time{}), off.Score(rows, time.Time{})
	if a.Dimensions[DimUsage] != b.Dimensions[DimUsage] || a.Score != b.Score-m.Convergence.PointsPerDimension {
		t.Errorf("with the goal at risk too: score %d (dims %v), without corroboration %d (dims %v); want %d fewer, from convergence alone",
			a.Score, a.Dimensions, b.Score, b.Dimensions, m.Convergence.PointsPerDimension)
	}
}

func TestCorroborationIsValidated(t *testing.T) {
	for _, c := range []struct {
		set func(*Corroboration)
		key string
	}{
		{func(c *Corroboration) { c.UsageWeeks = 5 }, "corroboration.usage_weeks"},
		{func(c *Corroboration) { c.UsageWeeks = -1 }, "corroboration.usage_weeks"},
		{func(c *Corroboration) { c.MinSeries = 0 }, "corroboration.min_series"},
		{func(c *Corroboration) { c.MinSeries = 5 }, "corroboration.min_series"},
		{func(c *Corroboration) { c.MinPoints = -1 }, "corroboration.min_points"},
		{func(c *Corroboration) { c.UsageCap = 101 }, "corroboration.usage_cap"},
		{func(c *Corroboration) { c.DeepeningWeeks = 1 }, "corroboration.deepening_weeks"},
		{func(c *Corroboration) { c.DeepeningWeeks = 4 }, "corroboration.deepening_weeks"},
		{func(c *Corroboration) { c.DeepeningWeeks = -1 }, "corroboration.deepening_weeks"},
		{func(c *Corroboration) { c.DeepeningBy = -0.1 }, "corroboration.deepening_by"},
		{func(c *Corroboration) { c.DeepeningBy = math.NaN() }, "corroboration.deepening_by"},
	} {
		m := DefaultModel()
		c.set(&m.Corroboration)
		if err := m.Validate(); err == nil || !strings.Contains(err.Error(), "risk."+c.key) {
			t.Errorf("%+v: %v, want an error naming risk.%s", m.Corroboration, err, c.key)
		}
	}
	m := DefaultModel()
	m.Corroboration.UsageWeeks = 0
	if err := m.Validate(); err != nil {
		t.Errorf("usage_weeks 0 (off): %v", err)
	}
}

// TestDeepeningDeclineStandsAlone: usage down 10%, 25%, then 40% over three
// weeks, with the goal at risk, is a slide, not a step: it is elevated
// before it has lasted corroboration.usage_weeks, where the same three
// weeks as a level 40% step (TestThreeWeekDipStaysAtWatch) stay at watch.
func TestDeepeningDeclineStandsAlone(t *testing.T) {
	m := DefaultModel()
	off := m
	off.Corroboration.DeepeningWeeks = 0
	rows := steady("SL", 16)
	last := len(rows) - 1
	for i, f := range []float64{0.9, 0.75, 0.6} {
		dip(rows, last-2+i, last-2+i, f)
	}
	rows[last].GoalStatus = snapshot.GoalAtRisk
	a, b := m.Score(rows, time.Time{}), off.Score(rows, time.Time{})
	if !a.Tier.AtRisk() {
		t.Errorf("a 3-week slide, goal at risk: tier %s (score %d), want elevated; signals %v", a.Tier, a.Score, texts(a))
	}
	if b.Tier.AtRisk() {
		t.Errorf("the same slide without deepening: tier %s (score %d), want watch: the test cannot fail", b.Tier, b.Score)
	}
	if len(b.Signals) == 0 || !strings.Contains(b.Signals[0].Text, "in a row or the other dimensions") {
		t.Errorf("held without deepening, the strongest signal does not say why: %v", texts(b))
	}
}

// TestRightSizingInAShortHistory: a customer that asks to cut seats and
// cuts them in its first weeks of history, while its users keep working,
// is right-sizing: downgrade_requested scores right_sizing.factor of its
// points, though there are fewer baseline weeks than
// windows.min_baseline_weeks.
func TestRightSizingInAShortHistory(t *testing.T) {
	m := DefaultModel()
	rows := steady("RS", 5)
	rows[2].DowngradeRequested = snapshot.Some(true)
	for i := 3; i < len(rows); i++ {
		rows[i].LicensedSeats = snapshot.Some(42)
	}
	a := m.Score(rows, time.Time{})
	want := int(math.Round(float64(m.Signals.DowngradeRequested.Points) * m.RightSizing.Factor))
	if got := signalPoints(a, SigDowngradeRequested); got != want || !strings.Contains(signalText(a, SigDowngradeRequested), "right-sizing") {
		t.Errorf("seats cut in week 4 of 5, users held: downgrade_requested %d points, want %d; %q", got, want, signalText(a, SigDowngradeRequested))
	}
	// The same cut while active users fell by half is no right-sizing.
	for i := 2; i < len(rows); i++ {
		rows[i].ActiveUsers = snapshot.Some(20)
	}
	if got := signalPoints(m.Score(rows, time.Time{}), SigDowngradeRequested); got != m.Signals.DowngradeRequested.Points {
		t.Errorf("seats cut while active users halved: downgrade_requested %d points, want %d", got, m.Signals.DowngradeRequested.Points)
	}
}

// TestSilenceWithoutAKnownRhythm: a sponsor last heard from before the
// history begins has no earlier gap to be judged against (a quarterly
// sponsor looks silent for months): the silence is flagged for its base
// points and says why. Once the history shows the contact, the silence is
// measured in days as before.
func TestSilenceWithoutAKnownRhythm(t *testing.T) {
	m := DefaultModel()
	rows := steady("SR", 12)
	contact := day(week(0), -10)
	for i := range rows {
		rows[i].LastExecContact = snapshot.Some(contact)
	}
	a := m.Score(rows, time.Time{})
	rule := m.Signals.ExecSponsorSilence
	if got := signalPoints(a, SigExecSponsorSilence); got != rule.Points || !strings.Contains(signalText(a, SigExecSponsorSilence), "no earlier gap is known") {
		t.Errorf("silent since before the history: %d points, want %d; %q", got, rule.Points, signalText(a, SigExecSponsorSilence))
	}
	// A history that saw the week of the contact.
	earlier := steady("SR", 12)[0]
	earlier.Week = week(-2)
	earlier.LastExecContact = snapshot.Some(contact)
	rows = append([]snapshot.Snapshot{earlier}, rows...)
	if got := signalPoints(m.Score(rows, time.Time{}), SigExecSponsorSilence); got <= rule.Points {
		t.Errorf("silent %d days, the contact within the history: %d points, want more than %d", int(week(11).Sub(contact).Hours()/24), got, rule.Points)
	}
}

func signalPoints(a Assessment, id string) int {
	for _, s := range a.Signals {
		if s.ID == id {
			return s.Points
		}
	}
	return 0
}
