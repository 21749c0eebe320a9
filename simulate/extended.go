package simulate

import (
	"math/rand/v2"
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
)

// extension generates one account's optional columns of model 1.4
// (Options.Extended) from its own random stream.
type extension struct {
	rng       *rand.Rand
	lastLogin time.Time
	survey    time.Time // when the latest survey was sent
}

// extWeek is what the week's v1 values say about the optional columns.
type extWeek struct {
	opened     int  // tickets opened this week
	meetingDue bool // a CSM meeting was due this week
	met        bool // and it took place
	answered   bool // an NPS answer came in this week
	declining  bool // a churner past its onset
}

// week fills in the optional columns of s, week t of the window.
//
// Tickets opened are the tickets the support queue gained. A due meeting
// that did not take place was missed; a meeting that did was moved once in
// a while (counted missed too). Every account is sent a survey each
// quarter; only those that answer surveys ever answer, and a churner in
// decline leaves half of its surveys unanswered. The last login is the
// latest week with a login, unknown when usage is.
func (x *extension) week(a *Account, s *snapshot.Snapshot, t int, e extWeek, missing float64) {
	hit := func() bool { return x.rng.Float64() < missing }
	if !hit() {
		s.TicketsOpened = snapshot.Some(e.opened)
	}
	missed := 0
	switch {
	case e.meetingDue && !e.met:
		missed = 1
	case e.met && x.rng.Float64() < 0.05:
		missed = 1
	}
	if !hit() {
		s.MeetingsMissed = snapshot.Some(missed)
	}
	if (t+a.SurveyPhase)%13 == 0 {
		x.survey = s.Week.AddDate(0, 0, x.rng.IntN(3))
	}
	if !x.survey.IsZero() {
		s.NPSSurveySent = snapshot.Some(x.survey)
	}
	if !e.answered || (e.declining && x.rng.Float64() < 0.5) {
		s.NPS = snapshot.Opt[int]{}
	}
	if s.Logins.Known && s.Logins.V > 0 {
		x.lastLogin = s.Week.AddDate(0, 0, x.rng.IntN(5))
	}
	if s.Logins.Known && !x.lastLogin.IsZero() {
		s.LastLoginDate = snapshot.Some(x.lastLogin)
	}
}
