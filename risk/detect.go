package risk

import (
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
)

// trendSpec names a usage series and how to talk about it.
type trendSpec struct {
	id       string
	field    string
	label    string // sentence subject
	unit     string // after a value, e.g. "/wk"
	fraction bool
	get      getter
}

var trendSpecs = [...]trendSpec{
	{SigLoginDrop, "logins", "Logins", "/wk", false, getLogins},
	{SigActiveUsersDrop, "active_users", "Active users", "", false, getActiveUsers},
	{SigDAUMAUDecline, "dau_mau", "DAU/MAU", "", true, getDAUMAU},
	{SigFeatureAdoptionDecline, "feature_adoption", "Feature adoption", "", true, getAdoption},
}

func (sc *scorer) usageSignals() {
	for i := range trendSpecs {
		sc.usage[i] = sc.usageBaseline(i)
		sc.trend(i)
	}
	sc.slide()
	sc.seatUtilisation()
	sc.loginRecency()
}

// trend compares the recent window with the account's own baseline; see
// "How the model reads a history" in score.go and "Peer-relative usage" in
// peers.go.
func (sc *scorer) trend(si int) {
	t := &trendSpecs[si]
	w := sc.m.Windows
	rule := signalDefByID(t.id).rule(&sc.m.Signals)
	R, B := w.RecentWeeks, w.BaselineWeeks
	if sc.ntslots < R+w.MinBaselineWeeks {
		return
	}
	// peer is the level the account's peers were at in trend slot i.
	u := &sc.usage[si]
	if !u.ok {
		return
	}
	baseline, expected := u.baseline, u.expected
	level := baseline * expected

	down, nr := 0, 0
	latest, latestI, latestPeer := 0.0, -1, 1.0
	peerDip := false
	var recent [maxWindow]float64
	for i := 0; i < R; i++ {
		v, ok := sc.value(int(sc.tslots[i]), t.get)
		if !ok {
			continue
		}
		pf := sc.peer(i, si)
		peerDip = peerDip || pf < 1
		if latestI < 0 {
			latest, latestI, latestPeer = v, i, pf
		}
		recent[nr] = v / pf
		nr++
		if 1-v/(level*pf) >= rule.Threshold*w.PersistenceShare {
			down++
		}
	}
	if down < w.PersistenceWeeks {
		return
	}
	drop := 1 - latest/(level*latestPeer)
	now, when, nowPeer := latest, "in the week of "+sc.weekLabel(int(sc.tslots[latestI])), latestPeer
	if drop < rule.Threshold { // the latest week recovered: judge the recent median
		now, when, nowPeer = median(recent[:nr]), "over the last "+plural(R, "week", "weeks"), 1
		drop = 1 - now/level
	}
	points := rule.points(drop, false)
	if points == 0 {
		return
	}

	ev := sc.slotSeries(t.get, t.field, sc.tslots[:sc.ntslots])
	ev.Window = "last " + plural(R, "week", "weeks") + " vs the median of the " + plural(B, "week", "weeks") + " before"
	if int(sc.tslots[sc.ntslots-1]) >= sc.ntslots {
		ev.Window += ", year-end weeks left out"
	}
	if peerDip {
		ev.Window += ", each week read against the dip its peers had that week"
	}
	var text string
	switch {
	case expected < 1:
		ev.Window += ", less the dip the same weeks had last year"
		text = t.label + " fell " + pct(drop) + " below the expected level of " + num(level, t.fraction) + t.unit +
			" (the " + strconv.Itoa(B) + "-week baseline of " + num(baseline, t.fraction) + t.unit + " less the " + pct(1-expected) +
			" dip the same weeks had last year) to " + num(now, t.fraction) + t.unit + " " + when
	case nowPeer < 1:
		text = t.label + " fell " + pct(drop) + " below the expected level of " + num(level*nowPeer, t.fraction) + t.unit +
			" (the " + strconv.Itoa(B) + "-week baseline of " + num(baseline, t.fraction) + t.unit + " less the " + pct(1-nowPeer) +
			" dip its peers had that week) to " + num(now, t.fraction) + t.unit + " " + when
	default:
		text = t.label + " fell " + pct(drop) + " below the " + strconv.Itoa(B) + "-week baseline (" +
			num(baseline, t.fraction) + t.unit + " to " + num(now, t.fraction) + t.unit + " " + when + ")"
	}
	text += "; " + strconv.Itoa(down) + " of the last " + strconv.Itoa(R) + " weeks were down " + pct(rule.Threshold*w.PersistenceShare) + " or more"
	if peerDip {
		text += " against their peers"
	}
	sc.emit(t.id, points, text+".", ev)
}

// downRun counts the latest trend weeks in a row, up to limit (weeks not
// reported skipped), in which corroboration.min_series of the usage series
// the week reports (all of them, when it reports fewer) are down by
// windows.persistence_share of their signal's threshold against their
// expected level: how long a usage decline has lasted.
func (sc *scorer) downRun(limit int) int {
	run := 0
	for i := 0; i < sc.ntslots && run < limit; i++ {
		known, down := 0, 0
		for si := range trendSpecs {
			drop, ok := sc.seriesDrop(i, si)
			if !ok {
				continue
			}
			known++
			if drop >= sc.m.Windows.PersistenceShare {
				down++
			}
		}
		switch {
		case known == 0:
			continue
		case down < min(sc.m.Corroboration.MinSeries, known):
			return run
		}
		run++
	}
	return run
}

// deepening reports whether a usage decline down together run weeks in a
// row (see downRun) has lasted corroboration.deepening_weeks or more and
// has deepened since the first of them: the mean drop of the usage series
// in the latest reported week is at least corroboration.deepening_by
// (in multiples of each signal's threshold) beyond the mean drop in the
// run's first week. A customer walking away slides further week by week;
// a term break or an offsite is a step down that stays level, then
// recovers (see "Corroboration" in score.go).
func (sc *scorer) deepening(run int) bool {
	c := sc.m.Corroboration
	if c.DeepeningWeeks == 0 || run < c.DeepeningWeeks {
		return false
	}
	// The run's newest and oldest reported weeks, as downRun counts them.
	newest, oldest := -1.0, -1.0
	for i, n := 0, 0; i < sc.ntslots && n < run; i++ {
		d, ok := sc.meanDrop(i)
		if !ok {
			continue
		}
		if n == 0 {
			newest = d
		}
		oldest = d
		n++
	}
	return newest-oldest >= c.DeepeningBy
}

// meanDrop is the mean drop below their expected level of the usage series
// trend slot i reports, each in multiples of its signal's threshold; false
// when the week reports none.
func (sc *scorer) meanDrop(i int) (float64, bool) {
	sum, known := 0.0, 0
	for si := range trendSpecs {
		if drop, ok := sc.seriesDrop(i, si); ok {
			sum += drop
			known++
		}
	}
	if known == 0 {
		return 0, false
	}
	return sum / float64(known), true
}

// seriesDrop is how far usage series si is below its expected level in
// trend slot i, in multiples of its signal's threshold; false when the
// series has no baseline or the week does not report it.
func (sc *scorer) seriesDrop(i, si int) (float64, bool) {
	u := &sc.usage[si]
	if !u.ok {
		return 0, false
	}
	v, ok := sc.value(int(sc.tslots[i]), trendSpecs[si].get)
	if !ok {
		return 0, false
	}
	drop := 1 - v/(u.baseline*u.expected*sc.peer(i, si))
	return drop / signalDefByID(trendSpecs[si].id).rule(&sc.m.Signals).Threshold, true
}

// usageBase is an account's own normal for one trend series.
type usageBase struct {
	ok       bool
	baseline float64 // median of the baseline weeks, each read against its peers
	expected float64 // share of the baseline expected now: below 1 when the same weeks last year dipped
	noise    float64 // usual week-to-week spread: 1.4826 x the median absolute log distance from the baseline (slide series only)
}

// usageBaseline measures the account's own normal for trend series si.
func (sc *scorer) usageBaseline(si int) usageBase {
	t := &trendSpecs[si]
	w := sc.m.Windows
	R, B := w.RecentWeeks, w.BaselineWeeks
	if sc.ntslots < R+w.MinBaselineWeeks {
		return usageBase{}
	}
	var buf, vals [maxWindow]float64
	nb := 0
	for i := R; i < sc.ntslots; i++ {
		if v, ok := sc.value(int(sc.tslots[i]), t.get); ok {
			vals[nb] = v / sc.peer(i, si)
			buf[nb] = vals[nb]
			nb++
		}
	}
	if nb < w.MinBaselineWeeks {
		return usageBase{}
	}
	u := usageBase{ok: true, baseline: median(buf[:nb]), expected: 1}
	if u.baseline <= 0 || (!t.fraction && u.baseline < w.MinBaselineCount) {
		return usageBase{}
	}
	if si < slideSeries { // only a slide reads the noise, and only of these
		for i := range nb {
			buf[i] = math.Abs(math.Log(max(vals[i], 1e-9) / u.baseline))
		}
		u.noise = 1.4826 * median(buf[:nb])
	}

	// Seasonality: the same weeks last year, against their own baseline.
	if sc.hasLY {
		var lyRecent, lyBase [maxWindow]float64
		nr, nlb := 0, 0
		for k := 0; k < R+B; k++ {
			if v, ok := sc.lyValue(k, t.get); ok {
				if k < R {
					lyRecent[nr] = v
					nr++
				} else {
					lyBase[nlb] = v
					nlb++
				}
			}
		}
		if nr >= w.PersistenceWeeks && nlb >= w.MinBaselineWeeks {
			if b := median(lyBase[:nlb]); b > 0 {
				if r := median(lyRecent[:nr]) / b; r < 1 {
					u.expected = max(r, 0.5) // a seasonal allowance, never more than half
				}
			}
		}
	}
	return u
}

func (sc *scorer) seatUtilisation() {
	w := sc.m.Windows
	seats, sk, ok := sc.current(getSeats)
	if !ok || seats <= 0 {
		return
	}
	active, n := sc.medianOver(getActiveUsers, 0, w.RecentWeeks)
	if n == 0 {
		return
	}
	util := active / seats
	rule := &sc.m.Signals.SeatUtilisationLow
	points := rule.points(util, true)
	if points == 0 {
		return
	}
	ev := sc.series(getActiveUsers, "active_users", w.RecentWeeks, false)
	ev.Fields = []string{"active_users", "licensed_seats"}
	ev.Weeks = append(ev.Weeks, sc.weekLabel(sk))
	ev.Values = append(ev.Values, seats)
	ev.Window = "median active users over the last " + plural(w.RecentWeeks, "week", "weeks") + " vs the latest licensed seats"
	sc.emit(SigSeatUtilisationLow, points, "Only "+num(active, false)+" of "+num(seats, false)+" licensed seats are in use ("+pct(util)+").", ev)
}

// slotSeries is the evidence of a field over the given week slots (newest
// first), listed oldest first.
func (sc *scorer) slotSeries(get getter, field string, slots []int8) Evidence {
	ev := Evidence{Field: field, Weeks: make([]string, 0, len(slots)), Values: make([]float64, 0, len(slots))}
	for i := len(slots) - 1; i >= 0; i-- {
		if v, ok := sc.value(int(slots[i]), get); ok {
			ev.Weeks = append(ev.Weeks, sc.weekLabel(int(slots[i])))
			ev.Values = append(ev.Values, v)
		}
	}
	return ev
}

// series is the evidence of a field over the first n week slots, oldest
// first; nonZero keeps only the weeks with a value above zero.
func (sc *scorer) series(get getter, field string, n int, nonZero bool) Evidence {
	count := 0
	for k := n - 1; k >= 0; k-- {
		if v, ok := sc.value(k, get); ok && (!nonZero || v > 0) {
			count++
		}
	}
	// One more slot: callers may add a value read from another field.
	ev := Evidence{Field: field, Weeks: make([]string, 0, count+1), Values: make([]float64, 0, count+1)}
	for k := n - 1; k >= 0; k-- {
		if v, ok := sc.value(k, get); ok && (!nonZero || v > 0) {
			ev.Weeks = append(ev.Weeks, sc.weekLabel(k))
			ev.Values = append(ev.Values, v)
		}
	}
	return ev
}

func (sc *scorer) relationshipSignals() {
	w := sc.m.Windows
	s := &sc.m.Signals

	// Users deactivated within the event window.
	if total := sc.sumEvents(getDeactivated); total >= minDeactivated {
		// Deactivations count as a share of the account's users, so two
		// leavers weigh more at a 20-user customer than at a 2,000-user one.
		text := plural(int(total), "user account was", "user accounts were") + " deactivated in the last " + plural(w.EventWeeks, "week", "weeks")
		p := 0
		ev := sc.eventEvidence(getDeactivated, "users_deactivated")
		if base, what, ok := sc.userBase(); ok {
			share := total / base
			p = s.UsersDeactivated.points(share, false)
			text += ", " + pct(share) + " of " + what.text
			sc.cite(&ev, what.get, what.field, sc.slotRange(what.slots))
		} else if s.UsersDeactivated.Points > 0 {
			p = s.UsersDeactivated.Points // no user count known: the base points only
		}
		if p > 0 {
			text += "; a sign of staff changes at the customer"
			if from, to, cut := sc.seatCut(); cut {
				if why, ok := sc.rightSized(&ev); ok {
					p = int(math.Round(float64(p) * sc.m.RightSizing.Factor))
					text += ", though licensed seats were cut from " + num(from, false) + " to " + num(to, false) + " " + why + " (right-sizing?)"
					sc.cite(&ev, getSeats, "licensed_seats", sc.slotRange(w.EventWeeks+1))
				}
			}
			sc.emit(SigUsersDeactivated, p, text+".", ev)
		}
	}

	sc.champion()

	// Stakeholder silence: always flagged once past the threshold.
	sc.silence(SigExecSponsorSilence, "last_exec_contact", &s.ExecSponsorSilence,
		func(r *snapshot.Snapshot) snapshot.Opt[time.Time] { return r.LastExecContact },
		"No reply or meeting with the executive sponsor for ", "last contact")
	sc.silence(SigCSMContactGap, "last_csm_meeting", &s.CSMContactGap,
		func(r *snapshot.Snapshot) snapshot.Opt[time.Time] { return r.LastCSMMeeting },
		"No CSM meeting with the customer for ", "last meeting")
	sc.meetingsMissed()

	sc.nps()
	sc.npsNoResponse()
}

// rightSized reports whether a cut (seats deactivated, a downgrade, lower
// ARR) reads as right-sizing, trimming seats nobody used, and says why in
// a clause for the signal's sentence, citing what it read in ev. It does
// when no invoice is overdue past signals.invoice_overdue.threshold (a
// customer that cuts its plan while it stops paying is in distress) and
// either active users held (activeHeld) or licensed seats were cut to a
// number that still covers the account's active users (their median over
// the recent window): the seats let go were seats nobody used. A usage
// decline behind such a cut is scored by the usage signals on its own.
func (sc *scorer) rightSized(ev *Evidence) (string, bool) {
	if _, distress := sc.distress(); distress {
		return "", false
	}
	if held, share := sc.activeHeld(); held {
		sc.cite(ev, getActiveUsers, "active_users", sc.tslots[:sc.ntslots])
		return "while active users held at " + pct(share) + " of their baseline", true
	}
	if seats, users, ok := sc.seatsCoverUsers(); ok {
		sc.cite(ev, getActiveUsers, "active_users", sc.tslots[:sc.m.Windows.RecentWeeks])
		if !slices.Contains(ev.Fields, "licensed_seats") {
			sc.cite(ev, getSeats, "licensed_seats", sc.tslots[:sc.ntslots])
		}
		return "while the " + num(seats, false) + " licensed seats left still cover its " + num(users, false) + " active users", true
	}
	return "", false
}

// distress reports whether an invoice is overdue past
// signals.invoice_overdue.threshold, and its days: a cut asked for then is
// commercial distress, not right-sizing (see RightSizing).
func (sc *scorer) distress() (float64, bool) {
	days, _, ok := sc.current(getOverdue)
	return days, ok && sc.m.Signals.InvoiceOverdue.fires(days, false)
}

// cut weighs the points of a cut (downgrade_requested, arr_decline) by what
// it reads as, and gives the clause that says so: right-sizing (trimmed)
// scores right_sizing.factor of them, distress right_sizing.distress_factor
// times them.
func (sc *scorer) cut(points int, ev *Evidence) (p int, why string, trimmed bool) {
	if days, ok := sc.distress(); ok {
		sc.cite(ev, getOverdue, "overdue_invoice_days", sc.slotRange(sc.pit))
		return int(math.Round(float64(points) * sc.m.RightSizing.DistressFactor)),
			", while an invoice is " + plural(int(days), "day", "days") + " overdue: commercial distress, not right-sizing", false
	}
	if why, ok := sc.rightSized(ev); ok {
		return int(math.Round(float64(points) * sc.m.RightSizing.Factor)), ", " + why + ": right-sizing unused seats?", true
	}
	return points, "", false
}

// seatsCoverUsers reports whether licensed seats were cut (the current
// count below the baseline median) to no fewer than the active users
// (their median over the recent window), and the two numbers.
func (sc *scorer) seatsCoverUsers() (seats, users float64, ok bool) {
	w := sc.m.Windows
	seats, _, known := sc.current(getSeats)
	if !known || sc.ntslots < w.RecentWeeks+w.MinBaselineWeeks {
		return 0, 0, false
	}
	before, n := sc.medianAt(getSeats, sc.tslots[w.RecentWeeks:sc.ntslots])
	if n < w.MinBaselineWeeks || seats >= before {
		return 0, 0, false
	}
	users, n = sc.medianAt(getActiveUsers, sc.tslots[:w.RecentWeeks])
	if n < w.PersistenceWeeks || users <= 0 {
		return 0, 0, false
	}
	return seats, users, seats >= users
}

// cite adds another field's values over the given week slots (newest
// first) to ev, oldest first, for a sentence that quotes a number read
// from them: the evidence lists every field its sentence quotes.
func (sc *scorer) cite(ev *Evidence, get getter, field string, slots []int8) {
	if len(ev.Fields) == 0 {
		ev.Fields = append(make([]string, 0, 3), ev.Field)
	}
	ev.Fields = append(ev.Fields, field)
	for i := len(slots) - 1; i >= 0; i-- {
		if v, ok := sc.value(int(slots[i]), get); ok {
			ev.Weeks = append(ev.Weeks, sc.weekLabel(int(slots[i])))
			ev.Values = append(ev.Values, v)
		}
	}
}

// slotRange is the week slots 0..n-1 (at most maxWindow).
func (sc *scorer) slotRange(n int) []int8 { return allSlots[:min(n, sc.nslots)] }

var allSlots = func() (s [maxWindow]int8) {
	for i := range s {
		s[i] = int8(i)
	}
	return s
}()

// activeHeld reports whether active users held at right_sizing.active_share
// of their baseline or more (recent median against the baseline median),
// and the share. Unknown is not held. A history too short for a full
// baseline (fewer than windows.min_baseline_weeks weeks before the recent
// window) is read against the weeks it has: a customer that cuts seats in
// its first weeks of history while its users keep working is right-sizing
// as much as one with a year behind it.
func (sc *scorer) activeHeld() (bool, float64) {
	w := sc.m.Windows
	if sc.ntslots <= w.RecentWeeks {
		return false, 0
	}
	recent, n := sc.medianAt(getActiveUsers, sc.tslots[:w.RecentWeeks])
	if n < w.PersistenceWeeks {
		return false, 0
	}
	base, n := sc.medianAt(getActiveUsers, sc.tslots[w.RecentWeeks:sc.ntslots])
	if n < 1 || base <= 0 {
		return false, 0
	}
	share := recent / base
	return share >= sc.m.RightSizing.ActiveShare, share
}

// seatCut reports whether licensed seats fell within the event window:
// the latest count against the most in the weeks before it.
func (sc *scorer) seatCut() (from, to float64, cut bool) {
	w := sc.m.Windows
	to, k, ok := sc.current(getSeats)
	if !ok {
		return 0, 0, false
	}
	for j := k + 1; j < w.EventWeeks+1 && j < sc.nslots; j++ {
		if v, ok := sc.value(j, getSeats); ok && v > from {
			from = v
		}
	}
	return from, to, from > to
}

// minDeactivated is the fewest deactivations that can be a signal: one
// leaver is ordinary staff turnover.
const minDeactivated = 2

// userBase is the account's normal number of users: the median of active
// users over the baseline weeks, else the latest licensed seats; and what
// it read, to say and to cite.
func (sc *scorer) userBase() (float64, userBaseSource, bool) {
	w := sc.m.Windows
	n := w.RecentWeeks + w.BaselineWeeks
	if m, known := sc.medianOver(getActiveUsers, 0, n); known > 0 && m > 0 {
		return m, userBaseSource{"its " + strconv.Itoa(int(math.Round(m))) + " usual active users", getActiveUsers, "active_users", n}, true
	}
	if seats, k, ok := sc.latest(n, getSeats); ok && seats > 0 {
		return seats, userBaseSource{"its " + num(seats, false) + " licensed seats", getSeats, "licensed_seats", k + 1}, true
	}
	return 0, userBaseSource{}, false
}

type userBaseSource struct {
	text  string
	get   getter
	field string
	slots int // the week slots read: 0..slots-1
}

// silence flags a contact date older than the rule's threshold, read from
// the latest week in the recent window that reports it. Silence is measured
// in the account's own rhythm, both ways: a sponsor who only meets
// quarterly is not silent at 60 days (listed all the same), and a customer
// met every week or two whose gap has already run past
// windows.rhythm_factor times the longest gap of the rhythm window is
// silent before the fixed threshold, from windows.rhythm_min_share of it.
// Either way the measure is the gap scaled by threshold / longest gap. A
// contact older than the history, with no gap reported since, shows no
// rhythm at all: it scores the rule's base points (model 1.6).
func (sc *scorer) silence(id, field string, rule *Rule, get func(*snapshot.Snapshot) snapshot.Opt[time.Time], lead, last string) {
	w := sc.m.Windows
	for k := 0; k < sc.pit; k++ {
		r := sc.row(k)
		if r == nil {
			continue
		}
		d := get(r)
		if !d.Known {
			continue
		}
		days := float64(sc.asOfDay - dayNumber(d.V))
		fires := rule.fires(days, false)
		if !fires && (w.RhythmFactor == 0 || days < w.RhythmMinShare*rule.Threshold) {
			return
		}
		gap := sc.usualGap(get)
		measure := days
		switch {
		case gap == 0 && fires && dayNumber(sc.at(0).Week) > dayNumber(d.V):
			// The history begins after the last contact: no gap has been
			// seen to judge this one against (a sponsor met quarterly looks
			// silent for months), so the silence scores its base points
			// until the history shows the account's rhythm.
			measure = rule.Threshold
		case gap > rule.Threshold:
			measure = days * rule.Threshold / gap
		case w.RhythmFactor > 0 && gap > 0 && days >= w.RhythmFactor*gap && days >= w.RhythmMinShare*rule.Threshold:
			measure = days * rule.Threshold / gap
		case !fires:
			return
		}
		date := dateLabel(d.V)
		text := lead + plural(int(days), "day", "days") + " (" + last + " " + date
		window := "days from " + field + " (" + date + ") to the scored week"
		switch {
		case gap == 0 && measure != days:
			text += "; the history starts after it, so no earlier gap is known"
			window += ", no earlier gap known"
		case measure != days:
			text += "; the longest gap in the " + plural(w.RhythmWeeks, "week", "weeks") + " before was " + plural(int(gap), "day", "days")
			window += ", against the longest earlier gap"
		}
		sc.emit(id, rule.points(measure, false), text+").",
			Evidence{Field: field, Weeks: []string{sc.weekLabel(k)}, Values: []float64{days}, Window: window})
		return
	}
}

// usualGap is the longest gap between successive contact dates reported
// over windows.rhythm_weeks, before the current one; 0 when fewer than two
// dates were reported.
func (sc *scorer) usualGap(get func(*snapshot.Snapshot) snapshot.Opt[time.Time]) float64 {
	oldest := sc.asOfDay - int64(7*sc.m.Windows.RhythmWeeks)
	const none = -1 << 62
	prev, longest := int64(none), int64(0)
	for i := sc.end; i >= 0; i-- {
		r := sc.at(i)
		if dayNumber(r.Week) < oldest {
			break
		}
		d := get(r)
		if !d.Known {
			continue
		}
		day := dayNumber(d.V)
		switch {
		case prev == none:
			prev = day
		case day < prev:
			longest = max(longest, prev-day)
			prev = day
		}
	}
	// The gaps end at or before the latest contact: the open gap (latest
	// contact to now) is the one being judged.
	return float64(longest)
}

// sumEvents adds a weekly count over the event window.
func (sc *scorer) sumEvents(get getter) float64 {
	total := 0.0
	for k := 0; k < sc.m.Windows.EventWeeks; k++ {
		if v, ok := sc.value(k, get); ok && v > 0 {
			total += v
		}
	}
	return total
}

// eventEvidence lists the weeks of the event window with a non-zero count.
func (sc *scorer) eventEvidence(get getter, field string) Evidence {
	ev := sc.series(get, field, sc.m.Windows.EventWeeks, true)
	ev.Window = "last " + plural(sc.m.Windows.EventWeeks, "week", "weeks")
	return ev
}

func (sc *scorer) nps() {
	w := sc.m.Windows
	s := &sc.m.Signals
	// Walk rows back through the NPS window: the latest answer, and the best
	// one before it.
	oldest := sc.asOfDay - int64(7*(w.NPSWeeks-1))
	latest, best := -1, -1
	for i := sc.end; i >= 0; i-- {
		r := sc.at(i)
		if dayNumber(r.Week) < oldest {
			break
		}
		if !r.NPS.Known {
			continue
		}
		if latest < 0 {
			latest = i
			continue
		}
		if best < 0 || r.NPS.V > sc.at(best).NPS.V {
			best = i
		}
	}
	if latest < 0 {
		return
	}
	lr := sc.at(latest)
	score := float64(lr.NPS.V)
	week := dateLabel(lr.Week)
	if p := s.NPSLow.points(score, true); p > 0 {
		sc.emit(SigNPSLow, p, "The latest NPS answer is "+strconv.Itoa(lr.NPS.V)+" out of 10 (week of "+week+").",
			Evidence{Field: "nps", Weeks: []string{week}, Values: []float64{score}, Window: "latest answer within " + plural(w.NPSWeeks, "week", "weeks")})
	}
	if best >= 0 {
		br := sc.at(best)
		drop := float64(br.NPS.V - lr.NPS.V)
		if p := s.NPSDrop.points(drop, false); p > 0 && drop > 0 {
			bw := dateLabel(br.Week)
			sc.emit(SigNPSDrop, p, "NPS fell "+strconv.Itoa(br.NPS.V-lr.NPS.V)+" points, from "+strconv.Itoa(br.NPS.V)+" (week of "+bw+") to "+strconv.Itoa(lr.NPS.V)+".",
				Evidence{Field: "nps", Weeks: []string{bw, week}, Values: []float64{float64(br.NPS.V), score}, Window: "best answer within " + plural(w.NPSWeeks, "week", "weeks") + " vs the latest"})
		}
	}
}

func (sc *scorer) supportSignals() {
	w := sc.m.Windows
	s := &sc.m.Signals
	R := w.RecentWeeks

	// Open tickets: the latest week that reports them, unless stale.
	for k := 0; k < sc.pit; k++ {
		r := sc.row(k)
		if r == nil || !(r.OpenTickets.Known || r.CriticalOpenTickets.Known || r.OldestOpenTicketDays.Known) {
			continue
		}
		week := sc.weekLabel(k)
		age, ageKnown := float64(r.OldestOpenTicketDays.V), r.OldestOpenTicketDays.Known
		if r.CriticalOpenTickets.Known && r.CriticalOpenTickets.V > 0 {
			n := r.CriticalOpenTickets.V
			ev := Evidence{Field: "critical_open_tickets", Fields: []string{"critical_open_tickets"}, Weeks: []string{week}, Values: []float64{float64(n)}, Window: "week of " + week}
			text := plural(n, "critical ticket is", "critical tickets are") + " open"
			if ageKnown {
				ev.Fields = append(ev.Fields, "oldest_open_ticket_days")
				ev.Weeks = append(ev.Weeks, week)
				ev.Values = append(ev.Values, age)
				text += "; the oldest open ticket is " + plural(int(age), "day", "days") + " old."
			} else {
				text += " (ticket age not reported)."
			}
			// A critical ticket is always listed; it scores once it has
			// stayed open past the threshold (most are fixed within days).
			p := s.CriticalTicketOpen.Points // age unknown: the base points
			if ageKnown {
				p = s.CriticalTicketOpen.points(age, false)
			}
			sc.emit(SigCriticalTicketOpen, p, text, ev)
		} else if ageKnown && s.UnresolvedTickets.fires(age, false) && !(r.OpenTickets.Known && r.OpenTickets.V == 0) {
			ev := Evidence{Field: "oldest_open_ticket_days", Fields: []string{"oldest_open_ticket_days"}, Weeks: []string{week}, Values: []float64{age}, Window: "week of " + week}
			text := "A support ticket has been open for " + plural(int(age), "day", "days")
			if r.OpenTickets.Known {
				ev.Fields = append(ev.Fields, "open_tickets")
				ev.Weeks = append(ev.Weeks, week)
				ev.Values = append(ev.Values, float64(r.OpenTickets.V))
				text = plural(r.OpenTickets.V, "support ticket is", "support tickets are") + " open, the oldest for " + plural(int(age), "day", "days")
			}
			sc.emit(SigUnresolvedTickets, s.UnresolvedTickets.points(age, false), text+" without resolution.", ev)
		}
		break
	}

	if total := sc.sumEvents(getEscalations); total > 0 && s.Escalations.fires(total, false) {
		sc.emit(SigEscalations, s.Escalations.points(total, false), plural(int(total), "escalation was", "escalations were")+" raised in the last "+
			plural(w.EventWeeks, "week", "weeks")+".", sc.eventEvidence(getEscalations, "escalations"))
	}

	// Integration errors: the recent median, so one bad sync day is not a trend.
	if med, n := sc.medianOver(getIntegrationErrs, 0, R); n >= w.PersistenceWeeks {
		if p := s.IntegrationErrors.points(med, false); p > 0 {
			ev := sc.series(getIntegrationErrs, "integration_errors", R, false)
			ev.Window = "median of the last " + plural(R, "week", "weeks")
			sc.emit(SigIntegrationErrors, p, "Integration errors ran at a median of "+num(med, false)+" a week over the last "+plural(n, "reported week", "reported weeks")+".", ev)
		}
	}
	sc.ticketVolume()
}

func (sc *scorer) commercialSignals() {
	w := sc.m.Windows
	s := &sc.m.Signals
	if days, k, ok := sc.current(getOverdue); ok && days > 0 {
		if p := s.InvoiceOverdue.points(days, false); p > 0 {
			week := sc.weekLabel(k)
			sc.emit(SigInvoiceOverdue, p, "The oldest unpaid invoice is "+plural(int(days), "day", "days")+" overdue (week of "+week+").",
				Evidence{Field: "overdue_invoice_days", Weeks: []string{week}, Values: []float64{days}, Window: "latest within the last " + plural(sc.pit, "week", "weeks")})
		}
	}
	for k := 0; k < w.EventWeeks; k++ {
		if r := sc.row(k); r != nil && r.DowngradeRequested.Known && r.DowngradeRequested.V {
			week := sc.weekLabel(k)
			p, text := s.DowngradeRequested.Points, "The customer asked to downgrade or cut seats (week of "+week+")"
			ev := Evidence{Field: "downgrade_requested", Weeks: []string{week}, Values: []float64{1}, Window: "last " + plural(w.EventWeeks, "week", "weeks")}
			p, why, _ := sc.cut(p, &ev)
			sc.emit(SigDowngradeRequested, p, text+why+".", ev)
			break
		}
	}
	sc.arrDecline()
}

func (sc *scorer) outcomeSignals() {
	s := &sc.m.Signals
	for k := 0; k < sc.pit; k++ {
		r := sc.row(k)
		if r == nil || r.GoalStatus == "" {
			continue
		}
		if r.GoalStatus != snapshot.GoalAtRisk && r.GoalStatus != snapshot.GoalOffTrack {
			return
		}
		week := sc.weekLabel(k)
		goal := "The customer's goal"
		ev := Evidence{Field: "goal_status", Weeks: []string{week}, Window: "latest within the last " + plural(sc.pit, "week", "weeks") + "; 1 = at_risk, 2 = off_track"}
		if r.SuccessGoal != "" {
			goal += " " + strconv.Quote(r.SuccessGoal)
			ev.Fields = []string{"goal_status", "success_goal"} // quoted, a text: no value
		}
		if r.GoalStatus == snapshot.GoalAtRisk {
			ev.Values = []float64{1}
			sc.emit(SigGoalAtRisk, s.GoalAtRisk.Points, goal+" is at risk, per the CSM (week of "+week+").", ev)
		} else {
			ev.Values = []float64{2}
			sc.emit(SigGoalOffTrack, s.GoalOffTrack.Points, goal+" is off track, per the CSM (week of "+week+").", ev)
		}
		return
	}
}

// champion flags a departed champion, scored by how long the role has
// stayed unfilled: a champion replaced within a few weeks is an ordinary
// handover, one gone for a month or more with nobody named is a customer
// losing its voice for the product (full points at
// signals.champion_departed.severe weeks: 6 since model 1.6, as handovers
// of three weeks raised false alarms at 4). champion_departed is read as a state, reported
// each week while the champion is gone; a departure reported in two or more
// weeks and then no longer is a replacement (listed, no points). A feed that
// reports the departure once, as an event, counts the weeks since.
func (sc *scorer) champion() {
	w := sc.m.Windows
	rule := &sc.m.Signals.ChampionDeparted
	// The latest report in the event window, and the run of departed weeks
	// at or before it.
	latest := -1
	for k := 0; k < w.EventWeeks; k++ {
		if r := sc.row(k); r != nil && r.ChampionDeparted.Known {
			latest = k
			break
		}
	}
	if latest < 0 {
		return
	}
	gone := sc.row(latest).ChampionDeparted.V
	first, last, reports := -1, -1, 0 // the departed run: oldest and newest week slot, weeks reporting it
	for k := latest; k < sc.nslots; k++ {
		r := sc.row(k)
		if r == nil || !r.ChampionDeparted.Known {
			continue
		}
		if r.ChampionDeparted.V {
			if last < 0 {
				last = k
			}
			first = k
			reports++
		} else if last >= 0 {
			break // the run before it ended
		} else if k >= w.EventWeeks {
			return // no departure reported within the event window
		}
	}
	if first < 0 {
		return
	}
	ev := Evidence{Field: "champion_departed", Weeks: make([]string, 0, first-latest+1), Values: make([]float64, 0, first-latest+1),
		Window: "weeks from the first report of the departure to the scored week"}
	for k := first; k >= latest; k-- {
		if r := sc.row(k); r != nil && r.ChampionDeparted.Known {
			ev.Weeks = append(ev.Weeks, sc.weekLabel(k))
			ev.Values = append(ev.Values, b2f(r.ChampionDeparted.V))
		}
	}
	weeks := first + 1 // weeks since the departure was first reported, counting the scored week
	if !gone && reports >= 2 {
		sc.emit(SigChampionDeparted, 0, "The customer's champion left (reported from the week of "+sc.weekLabel(first)+" for "+
			plural(reports, "week", "weeks")+") and is no longer reported gone since the week of "+sc.weekLabel(last-1)+": a successor?", ev)
		return
	}
	text := "The customer's champion left " + plural(weeks, "week", "weeks") + " ago (first reported in the week of " + sc.weekLabel(first) + ")"
	if gone {
		text += " and is still reported gone, with no successor"
	}
	sc.emit(SigChampionDeparted, rule.points(float64(weeks), false), text+".", ev)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
