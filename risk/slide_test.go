package risk

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
)

// noisy returns n weeks of a steady account whose usage moves a few
// percent week to week, as real usage does.
func noisy(id string, n int) []snapshot.Snapshot {
	rows := steady(id, n)
	wobble := []float64{1, 0.96, 1.03, 0.98, 1.04, 0.97, 1.01, 0.95, 1.02, 0.99}
	for i := range rows {
		f := wobble[i%len(wobble)]
		rows[i].Logins = snapshot.Some(int(120 * f))
		rows[i].ActiveUsers = snapshot.Some(int(40*f + 0.5))
		rows[i].DAUMAU = snapshot.Some(0.42 * f)
	}
	return rows
}

func TestSlideCatchesAShallowSharedDecline(t *testing.T) {
	rows := noisy("S-1", 16)
	// Logins, active users and DAU/MAU sag 6-12% together for four weeks:
	// each below login_drop's threshold, together well past the noise.
	for j, f := range []float64{0.93, 0.91, 0.89, 0.88} {
		r := &rows[12+j]
		r.Logins = snapshot.Some(int(120 * f))
		r.ActiveUsers = snapshot.Some(int(40*f + 0.5))
		r.DAUMAU = snapshot.Some(0.42 * (f + 0.03))
	}
	a := DefaultModel().Score(rows, time.Time{})
	if slices.Contains(signalIDs(a), SigLoginDrop) {
		t.Fatalf("login_drop fired on a shallow decline: %v", signalIDs(a))
	}
	i := slices.Index(signalIDs(a), SigUsageSlide)
	if i < 0 {
		t.Fatalf("usage_slide not raised: %v", signalIDs(a))
	}
	s := a.Signals[i]
	if s.Dimension != DimUsage || s.Points < DefaultModel().Signals.UsageSlide.Points {
		t.Errorf("usage_slide dimension %s points %d", s.Dimension, s.Points)
	}
	for _, want := range []string{"last 4 weeks", "logins averaged 108/wk", "active users", "times their usual week-to-week noise"} {
		if !strings.Contains(s.Text, want) {
			t.Errorf("text %q lacks %q", s.Text, want)
		}
	}
	if ev := s.Evidence; len(ev.Fields) < 2 || len(ev.Weeks) != len(ev.Values) || len(ev.Weeks) < 8 || ev.Window == "" {
		t.Errorf("evidence %+v", ev)
	}
}

func TestSlideIgnoresNoiseAndOneSeries(t *testing.T) {
	m := DefaultModel()
	if a := m.Score(noisy("S-2", 20), time.Time{}); a.Score != 0 {
		t.Errorf("noisy steady account scored %d: %v", a.Score, signalIDs(a))
	}
	// Only logins sag; active users and stickiness hold.
	rows := noisy("S-3", 16)
	for j, f := range []float64{0.9, 0.88, 0.87, 0.86} {
		rows[12+j].Logins = snapshot.Some(int(120 * f))
		rows[12+j].ActiveUsers = snapshot.Some(41)
		rows[12+j].DAUMAU = snapshot.Some(0.43)
	}
	if a := m.Score(rows, time.Time{}); slices.Contains(signalIDs(a), SigUsageSlide) {
		t.Errorf("one series raised usage_slide: %+v", a.Signals)
	}
	// A two-week dip that recovered in the latest week is not a slide.
	rows = noisy("S-4", 16)
	for _, i := range []int{13, 14} {
		rows[i].Logins = snapshot.Some(80)
		rows[i].ActiveUsers = snapshot.Some(30)
		rows[i].DAUMAU = snapshot.Some(0.33)
	}
	if a := m.Score(rows, time.Time{}); slices.Contains(signalIDs(a), SigUsageSlide) {
		t.Errorf("a recovered dip raised usage_slide: %+v", a.Signals)
	}
}

func TestChampionScoredByWeeksUnreplaced(t *testing.T) {
	m := DefaultModel()
	points := func(rows []snapshot.Snapshot) (int, string) {
		a := m.Score(rows, time.Time{})
		for _, s := range a.Signals {
			if s.ID == SigChampionDeparted {
				return s.Points, s.Text
			}
		}
		t.Fatalf("champion_departed not listed: %v", signalIDs(a))
		return 0, ""
	}
	var got []int
	severe := int(m.Signals.ChampionDeparted.Severe) // weeks gone for the most points
	for gone := 1; gone <= severe; gone++ {
		rows := steady("C-1", 12)
		for i := 12 - gone; i < 12; i++ {
			rows[i].ChampionDeparted = snapshot.Some(true)
		}
		p, text := points(rows)
		got = append(got, p)
		if gone == severe && !strings.Contains(text, plural(severe, "week", "weeks")+" ago") {
			t.Errorf("text %q does not say %d weeks", text, severe)
		}
	}
	if !slices.IsSorted(got) || got[0] != m.Signals.ChampionDeparted.Points || got[len(got)-1] != m.Signals.ChampionDeparted.SeverePoints {
		t.Errorf("points by weeks gone = %v, want rising from %d to %d", got, m.Signals.ChampionDeparted.Points, m.Signals.ChampionDeparted.SeverePoints)
	}
	// Gone three weeks, then a successor: listed, no points.
	rows := steady("C-2", 12)
	for i := 8; i < 11; i++ {
		rows[i].ChampionDeparted = snapshot.Some(true)
	}
	if p, text := points(rows); p != 0 || !strings.Contains(text, "successor") {
		t.Errorf("replaced champion: %d points, %q", p, text)
	}
	// A feed that reports the departure once, as an event, still counts it.
	rows = steady("C-3", 12)
	rows[9].ChampionDeparted = snapshot.Some(true)
	if p, _ := points(rows); p == 0 {
		t.Error("a departure reported once scored nothing")
	}
}
