package risk

import (
	"strconv"
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
)

// The signals added in model 1.4: ticket_volume_rising, login_recency,
// nps_no_response and meetings_missed read the optional columns
// (tickets_opened, last_login_date, nps_survey_sent, meetings_missed) and
// stay silent, at no cost, for an account that does not report them;
// arr_decline reads arr.

// reports tells whether the account reported the wanted field named in
// the week slots (computeKnown looks).
func (sc *scorer) reports(field int) bool { return sc.seen&(1<<field) != 0 }

// ticketVolume flags support tickets opened at a rising rate: the median
// of tickets_opened over the recent window in multiples of the baseline
// median, taken as at least minTicketBase a week so that a quiet account's
// few tickets are not a surge. Like a usage trend it needs persistence:
// windows.persistence_weeks of the recent weeks above that usual level.
func (sc *scorer) ticketVolume() {
	w := sc.m.Windows
	R, B := w.RecentWeeks, w.BaselineWeeks
	if !sc.reports(bitTicketsOpened) || sc.ntslots < R+w.MinBaselineWeeks {
		return
	}
	base, nb := sc.medianAt(getTicketsOpened, sc.tslots[R:sc.ntslots])
	if nb < w.MinBaselineWeeks {
		return
	}
	usual := max(base, minTicketBase)
	recent, nr := sc.medianAt(getTicketsOpened, sc.tslots[:R])
	above := 0
	for i := 0; i < R; i++ {
		if v, ok := sc.value(int(sc.tslots[i]), getTicketsOpened); ok && v > usual {
			above++
		}
	}
	if nr < w.PersistenceWeeks || above < w.PersistenceWeeks {
		return
	}
	rule := &sc.m.Signals.TicketVolumeRising
	ratio := recent / usual
	p := rule.points(ratio, false)
	if p == 0 {
		return
	}
	ev := sc.slotSeries(getTicketsOpened, "tickets_opened", sc.tslots[:sc.ntslots])
	ev.Window = "median of the last " + plural(R, "week", "weeks") + " vs the median of the " + plural(B, "week", "weeks") + " before (at least " + strconv.Itoa(minTicketBase) + ")"
	usualText := num(base, false) + " a week (the median of the " + plural(B, "week", "weeks") + " before)"
	if base < minTicketBase {
		usualText = strconv.Itoa(minTicketBase) + " a week (the least counted as usual; the median of the " + plural(B, "week", "weeks") + " before was " + num(base, false) + ")"
	}
	sc.emit(SigTicketVolumeRising, p, "Support tickets opened rose to a median of "+num(recent, false)+" a week over the last "+plural(R, "week", "weeks")+
		", "+strconv.FormatFloat(ratio, 'f', 1, 64)+" times the usual "+usualText+"; "+strconv.Itoa(above)+" of the last "+
		strconv.Itoa(R)+" weeks were above it.", ev)
}

// minTicketBase is the least usual weekly ticket count a rise is judged
// against: tickets come one or two at a time, and an account that opens
// none most weeks has not surged when it opens three. On simulated books
// a floor of 1 raised false alarms on Poisson noise alone.
const minTicketBase = 2

// loginRecency flags an account nobody has logged in to for a while: the
// days from last_login_date to the scored week, less the year-end holidays
// when windows.skip_year_end is set (the whole portfolio is away then).
func (sc *scorer) loginRecency() {
	rule := &sc.m.Signals.LoginRecency
	for k := 0; k < sc.pit && sc.reports(bitLastLoginDate); k++ {
		r := sc.row(k)
		if r == nil || !r.LastLoginDate.Known {
			continue
		}
		last := dayNumber(r.LastLoginDate.V)
		days := sc.asOfDay - last
		if !rule.fires(float64(days), false) {
			return
		}
		away := int64(0)
		if sc.m.Windows.SkipYearEnd {
			away = yearEndDays(last, sc.asOfDay)
		}
		p := rule.points(float64(days-away), false)
		if p == 0 {
			return
		}
		date := dateLabel(r.LastLoginDate.V)
		text := "Nobody at the customer has logged in for " + plural(int(days), "day", "days") + " (last login " + date
		window := "days from last_login_date (" + date + ") to the scored week"
		if away > 0 {
			text += "; " + plural(int(days-away), "day", "days") + " without the year-end holidays"
			window += ", December 24 to January 1 left out"
		}
		sc.loginWeeks = int(days-away) / 7
		sc.emit(SigLoginRecency, p, text+").",
			Evidence{Field: "last_login_date", Weeks: []string{sc.weekLabel(k)}, Values: []float64{float64(days)}, Window: window})
		return
	}
}

// yearEndDays counts the days after day from and up to day to that fall
// from December 24 to January 1.
func yearEndDays(from, to int64) int64 {
	n := int64(0)
	for d := from + 1; d <= to; d++ {
		_, m, dd := dayTime(d).Date()
		if (m == time.December && dd >= 24) || (m == time.January && dd == 1) {
			n++
		}
	}
	return n
}

// npsNoResponse flags a survey left unanswered by a customer that used to
// answer: nps_survey_sent at least the threshold's days before the scored
// week, no nps answer reported in the survey's week or after, and an answer
// within windows.nps_weeks before it. A customer that never answers says
// nothing by not answering again. (A feed that repeats the last answer
// every week hides a non-response: nps should hold an answer in the week
// it was given.)
func (sc *scorer) npsNoResponse() {
	rule := &sc.m.Signals.NPSNoResponse
	for k := 0; k < sc.pit && sc.reports(bitNPSSurveySent); k++ {
		r := sc.row(k)
		if r == nil || !r.NPSSurveySent.Known {
			continue
		}
		sent := r.NPSSurveySent.V
		days := float64(sc.asOfDay - dayNumber(sent))
		if !rule.fires(days, false) {
			return
		}
		sentWeek := dayNumber(snapshot.Monday(sent))
		oldest := sentWeek - int64(7*sc.m.Windows.NPSWeeks)
		before := -1 // the latest answer before the survey
		for i := sc.end; i >= 0 && dayNumber(sc.at(i).Week) >= oldest; i-- {
			if !sc.at(i).NPS.Known {
				continue
			}
			if dayNumber(sc.at(i).Week) >= sentWeek {
				return // answered
			}
			before = i
			break
		}
		if before < 0 {
			return
		}
		date, prev := dateLabel(sent), sc.at(before)
		prevWeek := dateLabel(prev.Week)
		sc.emit(SigNPSNoResponse, rule.points(days, false), "The NPS survey sent on "+date+" has had no answer in "+plural(int(days), "day", "days")+
			"; the customer answered the one before ("+strconv.Itoa(prev.NPS.V)+", week of "+prevWeek+").",
			Evidence{Field: "nps_survey_sent", Fields: []string{"nps_survey_sent", "nps"}, Weeks: []string{sc.weekLabel(k), prevWeek}, Values: []float64{days, float64(prev.NPS.V)},
				Window: "days from nps_survey_sent (" + date + ") to the scored week with no nps answer since its week; the answer before it within " + plural(sc.m.Windows.NPSWeeks, "week", "weeks")})
		return
	}
}

// arrDecline flags lost revenue: the ARR of the latest two weeks (the
// higher of them, so a one-week correction is not a decline) against the
// median of the baseline weeks. Like a downgrade request, it reads as
// right-sizing or as distress (see scorer.cut); right-sized, it is listed
// for no points.
func (sc *scorer) arrDecline() {
	w := sc.m.Windows
	R, B := w.RecentWeeks, w.BaselineWeeks
	now, k, ok := sc.current(getARR)
	if !ok {
		return
	}
	if v, ok := sc.value(k+1, getARR); ok && v > now {
		now = v
	}
	rule := &sc.m.Signals.ARRDecline
	if !sc.anyAbove(getARR, R, R+B, now/(1-rule.Threshold)) { // the usual account: ARR unchanged
		return
	}
	base, n := sc.medianOver(getARR, R, R+B)
	if n < w.MinBaselineWeeks || base <= 0 {
		return
	}
	drop := 1 - now/base
	p := rule.points(drop, false)
	if p == 0 {
		return
	}
	ev := sc.series(getARR, "arr", R+B, false)
	ev.Window = "the latest two weeks (the higher) vs the median of the " + plural(B, "week", "weeks") + " before the last " + plural(R, "week", "weeks")
	text := "ARR fell " + pct(drop) + ", from a median of " + num(base, false) + " over the " + plural(B, "week", "weeks") +
		" before the last " + plural(R, "week", "weeks") + " to " + num(now, false) + " (week of " + sc.weekLabel(k) + ")"
	p, why, trimmed := sc.cut(p, &ev)
	if trimmed {
		// The cut itself, once made, is revenue given up for seats nobody
		// used: listed, for no points. (A request to cut still scores a
		// share: it may not be the last.) On simulated books its few
		// points tipped usage dips that recovered over into elevated.
		sc.list(SigARRDecline, text+why+".", ev)
		return
	}
	sc.emit(SigARRDecline, p, text+why+".", ev)
}

// meetingsMissed counts the meetings the customer missed or cancelled
// within the event window.
func (sc *scorer) meetingsMissed() {
	if !sc.reports(bitMeetingsMissed) {
		return
	}
	total := sc.sumEvents(getMeetingsMissed)
	if total == 0 {
		return
	}
	if p := sc.m.Signals.MeetingsMissed.points(total, false); p > 0 {
		sc.emit(SigMeetingsMissed, p, "The customer missed or cancelled "+plural(int(total), "meeting", "meetings")+" in the last "+
			plural(sc.m.Windows.EventWeeks, "week", "weeks")+".", sc.eventEvidence(getMeetingsMissed, "meetings_missed"))
	}
}

// anyAbove reports whether a week slot from up to (not including) to
// holds a value of get at or above v.
func (sc *scorer) anyAbove(get getter, from, to int, v float64) bool {
	for k := from; k < to; k++ {
		if x, ok := sc.value(k, get); ok && x >= v {
			return true
		}
	}
	return false
}
