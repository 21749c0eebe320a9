package risk

import (
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
