package risk

import (
	"math"
	"strconv"
	"strings"
)

// Slow slides
//
// login_drop and its kin wait until one series is down by its threshold in
// most of the recent weeks: they are sure, and late. A customer drifting
// away shows first as its usage series sagging together, week after week,
// each by about its usual noise. usage_slide reads logins, active users and
// DAU/MAU at once. For each recent week and series it takes the log
// distance below the series' expected level (its baseline median, read
// against its peers as in peers.go, less any seasonal allowance) in units
// of the series' own week-to-week noise (1.4826 x the median absolute log
// deviation of its baseline weeks, at least slide.min_noise), and averages
// over the series known that week. Over the latest n weeks, n from
// slide.min_weeks to windows.recent_weeks, every one of them down by at
// least the usual noise on that average, the sum of the averages divided by
// sqrt(n) is the z-score of a steady shortfall; the best n counts. It
// scores only when at least slide.min_series series are each down
// slide.min_drop or more on average over those weeks, so one noisy series
// is not a slide, and one bad week (a holiday, an outage) never is: every
// week of the run must be down. It is its own group: several series
// agreeing is evidence beyond what login_drop reads in one. The default
// threshold (4.5) was set on simulated portfolios, where lower ones raised
// false alarms on ordinary noise faster than they caught churners earlier.

// slideSeries are the series a slide reads: the first trendSpecs (logins,
// active users, DAU/MAU).
const slideSeries = 3

func (sc *scorer) slide() {
	rule := &sc.m.Signals.UsageSlide
	cfg := &sc.m.Slide
	R := sc.m.Windows.RecentWeeks
	var zsum [maxWindow]float64
	var zn [maxWindow]int8
	var level [slideSeries]float64
	peerDip := false
	for si := range slideSeries {
		u := &sc.usage[si]
		if !u.ok {
			continue
		}
		level[si] = u.baseline * u.expected
		noise := max(u.noise, cfg.MinNoise)
		for i := range R {
			v, ok := sc.value(int(sc.tslots[i]), trendSpecs[si].get)
			if !ok {
				continue
			}
			pf := sc.peer(i, si)
			peerDip = peerDip || pf < 1
			want := level[si] * pf
			zsum[i] += math.Log(want/max(v, want/100)) / noise
			zn[i]++
		}
	}
	best, weeks, acc := 0.0, 0, 0.0
	for n := 1; n <= R; n++ {
		i := n - 1
		if zn[i] == 0 || zsum[i] < float64(zn[i]) { // the week is down less than its usual noise
			break
		}
		acc += zsum[i] / float64(zn[i])
		if z := acc / math.Sqrt(float64(n)); n >= cfg.MinWeeks && z > best {
			best, weeks = z, n
		}
	}
	if weeks == 0 || rule.points(best, false) == 0 {
		return
	}

	// Which series moved, and by how much on average over the run.
	var down [slideSeries]float64
	var mean [slideSeries]float64
	moving := 0
	for si := range slideSeries {
		if level[si] <= 0 {
			continue
		}
		sum, short, n := 0.0, 0.0, 0
		for i := range weeks {
			if v, ok := sc.value(int(sc.tslots[i]), trendSpecs[si].get); ok {
				sum += v
				short += 1 - v/(level[si]*sc.peer(i, si))
				n++
			}
		}
		if 2*n <= weeks { // known in at most half the run: cannot say
			continue
		}
		mean[si], down[si] = sum/float64(n), short/float64(n)
		if down[si] >= cfg.MinDrop {
			moving++
		}
	}
	if moving < cfg.MinSeries {
		return
	}

	var text strings.Builder
	text.WriteString("Over the last " + plural(weeks, "week", "weeks") + ", each below the usual level, ")
	ev := Evidence{Weeks: make([]string, 0, weeks*moving), Values: make([]float64, 0, weeks*moving)}
	parts := 0
	for si := range slideSeries {
		if level[si] <= 0 || down[si] < cfg.MinDrop {
			continue
		}
		t := &trendSpecs[si]
		if ev.Field == "" {
			ev.Field = t.field
		}
		ev.Fields = append(ev.Fields, t.field)
		for i := weeks - 1; i >= 0; i-- {
			if v, ok := sc.value(int(sc.tslots[i]), t.get); ok {
				ev.Weeks = append(ev.Weeks, sc.weekLabel(int(sc.tslots[i])))
				ev.Values = append(ev.Values, v)
			}
		}
		label := t.label
		if t.id != SigDAUMAUDecline {
			label = strings.ToLower(label)
		}
		switch {
		case parts == 0:
			text.WriteString(label)
		case parts == moving-1:
			text.WriteString(" and " + label)
		default:
			text.WriteString(", " + label)
		}
		text.WriteString(" averaged " + num(mean[si], t.fraction) + t.unit + " against a baseline of " + num(sc.usage[si].baseline, t.fraction) + t.unit +
			" (" + pct(down[si]) + " down")
		if sc.usage[si].expected < 1 || peerDip {
			text.WriteString(" on the expected level")
		}
		text.WriteString(")")
		parts++
	}
	text.WriteString("; together a shortfall " + strconv.FormatFloat(best, 'f', 1, 64) + " times their usual week-to-week noise.")
	ev.Window = "the last " + plural(weeks, "week", "weeks") + " of each field in turn, against the median of the " +
		plural(sc.m.Windows.BaselineWeeks, "week", "weeks") + " before the last " + plural(R, "week", "weeks")
	if peerDip {
		ev.Window += ", each week read against the dip its peers had that week"
	}
	sc.emit(SigUsageSlide, rule.points(best, false), text.String(), ev)
}
