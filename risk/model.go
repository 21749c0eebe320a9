// Package risk scores accounts from their weekly snapshots: it finds the
// signals in an account's history, explains each with its source evidence,
// adds them up by dimension into a 0..100 score and a tier, and ranks a
// portfolio by urgency. It is pure: no I/O, no clock, no Temporal.
package risk

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
)

// ModelVersion names the scoring logic. It changes when the code's meaning
// changes; configuration changes show in Model.Hash instead.
const ModelVersion = "churnwatch-risk/1.6"

// Model is the scoring configuration. It is embedded in the config file under
// the key "risk" (risk.thresholds.critical, risk.signals.login_drop.points...).
// It holds no maps so that its hash is stable.
type Model struct {
	Thresholds  Thresholds  `mapstructure:"thresholds" json:"thresholds"`
	Windows     Windows     `mapstructure:"windows" json:"windows"`
	Dimensions  Dimensions  `mapstructure:"dimensions" json:"dimensions"`
	Convergence Convergence `mapstructure:"convergence" json:"convergence"`
	// Corroboration holds usage evidence standing alone below elevated
	// (see "Corroboration" in score.go).
	Corroboration Corroboration `mapstructure:"corroboration" json:"corroboration"`
	Signals       Signals       `mapstructure:"signals" json:"signals"`
	Slide         Slide         `mapstructure:"slide" json:"slide"`
	RightSizing   RightSizing   `mapstructure:"right_sizing" json:"right_sizing"`
	Peers         Peers         `mapstructure:"peers" json:"peers"`
	Evidence      EvidenceRule  `mapstructure:"evidence" json:"evidence"`
	SLAHours      SLAHours      `mapstructure:"sla_hours" json:"sla_hours"`
	Priority      Priority      `mapstructure:"priority" json:"priority"`
}

// Thresholds are the lowest scores of each tier.
type Thresholds struct {
	Critical int `mapstructure:"critical" json:"critical"`
	Elevated int `mapstructure:"elevated" json:"elevated"`
	Watch    int `mapstructure:"watch" json:"watch"`
}

// Windows say which weeks each kind of signal reads, counted back from the
// scored week (week 1 is the scored week itself).
type Windows struct {
	// RecentWeeks is the window a trend is judged on, and the window a
	// point-in-time field (tickets, contact dates) must be known in.
	RecentWeeks int `mapstructure:"recent_weeks" json:"recent_weeks"`
	// BaselineWeeks before the recent window make the account's own normal
	// (their median).
	BaselineWeeks int `mapstructure:"baseline_weeks" json:"baseline_weeks"`
	// MinBaselineWeeks known baseline weeks are needed to call a trend.
	MinBaselineWeeks int `mapstructure:"min_baseline_weeks" json:"min_baseline_weeks"`
	// PersistenceWeeks of the recent window must each be down by the
	// signal's threshold: one bad week (a holiday) is not a trend.
	PersistenceWeeks int `mapstructure:"persistence_weeks" json:"persistence_weeks"`
	// PersistenceShare is how far down a week must be to count towards
	// persistence, as a share of the signal's threshold: 0.5 counts a week
	// 10% down towards a 20% login_drop, so a steady slide qualifies while
	// the size of the drop is still judged against the full threshold.
	PersistenceShare float64 `mapstructure:"persistence_share" json:"persistence_share"`
	// MinBaselineCount is the smallest baseline (median per week) a count
	// series (logins, active users) needs for a trend: a fall from 2 logins
	// a week to 0 is a 100% drop that says nothing.
	MinBaselineCount float64 `mapstructure:"min_baseline_count" json:"min_baseline_count"`
	// EventWeeks is how long an event (a deactivation, an escalation, a
	// departed champion, a downgrade request) keeps counting.
	EventWeeks int `mapstructure:"event_weeks" json:"event_weeks"`
	// NPSWeeks is how long an NPS answer stays current.
	NPSWeeks int `mapstructure:"nps_weeks" json:"nps_weeks"`
	// SeasonalWeeks is the distance to "the same weeks last year". When the
	// history reaches that far back, a dip the account also had then is
	// discounted. 0 turns this off.
	SeasonalWeeks int `mapstructure:"seasonal_weeks" json:"seasonal_weeks"`
	// RhythmWeeks is how far back the model reads contact dates to learn
	// an account's usual longest gap between contacts (sponsor, CSM
	// meetings); silence is judged against it.
	RhythmWeeks int `mapstructure:"rhythm_weeks" json:"rhythm_weeks"`
	// RhythmFactor tightens silence for a regular rhythm: a contact gap of
	// at least RhythmFactor times the longest gap of the RhythmWeeks before
	// is read as silence (scaled by the signal's threshold over that
	// longest gap) before the fixed threshold, once it reaches
	// RhythmMinShare of it. A customer met every week or two that has gone
	// three weeks without a meeting is off its own rhythm. 0 turns this
	// off.
	RhythmFactor   float64 `mapstructure:"rhythm_factor" json:"rhythm_factor"`
	RhythmMinShare float64 `mapstructure:"rhythm_min_share" json:"rhythm_min_share"`
	// SkipYearEnd reads the weeks holding any day from December 24 to
	// January 1 as unknown in usage trends, and reaches back past them: the
	// whole portfolio is away then, so a dip says nothing about one
	// account (and the weeks would drag a baseline down). The days since
	// the last login leave those days out too.
	SkipYearEnd bool `mapstructure:"skip_year_end" json:"skip_year_end"`
	// StaleWeeks: a field unknown in the latest stale_weeks weeks or more,
	// though reported before them, is stale. It is listed in missing as
	// "logins (stale 3 weeks)", counts as unknown, and nothing is read from
	// its older weeks as if current: a point-in-time field (tickets, an
	// invoice, a contact date, the goal) is read only from the latest
	// stale_weeks weeks, never further back. When the latest week's
	// row is missing or empty (a broken feed), every field is stale from
	// the first week. 0 turns staleness off: fields are then read from
	// anywhere in their window, as before model 1.4.
	StaleWeeks int `mapstructure:"stale_weeks" json:"stale_weeks"`
}

// Dimension weighs and caps the points of one dimension.
type Dimension struct {
	Weight float64 `mapstructure:"weight" json:"weight"`
	Cap    int     `mapstructure:"cap" json:"cap"`
}

// Dimensions are the five areas signals fall in.
type Dimensions struct {
	Usage        Dimension `mapstructure:"usage" json:"usage"`
	Relationship Dimension `mapstructure:"relationship" json:"relationship"`
	Support      Dimension `mapstructure:"support" json:"support"`
	Commercial   Dimension `mapstructure:"commercial" json:"commercial"`
	Outcome      Dimension `mapstructure:"outcome" json:"outcome"`
}

// Convergence adds points when several dimensions show risk at once:
// independent evidence agreeing is stronger than any one signal.
type Convergence struct {
	// MinPoints a dimension needs (after its cap) to count.
	MinPoints int `mapstructure:"min_points" json:"min_points"`
	// PointsPerDimension is added for each counting dimension beyond the
	// first, once MinDimensions or more count: weak signals agreeing across
	// enough independent areas, not any two of them, make the case.
	PointsPerDimension int `mapstructure:"points_per_dimension" json:"points_per_dimension"`
	MinDimensions      int `mapstructure:"min_dimensions" json:"min_dimensions"`
}

// Corroboration sets when usage evidence may carry an account on its own
// (see "Corroboration" in score.go). A usage decline is transient until it
// has lasted UsageWeeks latest weeks in a row, in MinSeries of the usage
// series at once. Transient usage adds no convergence points, and while
// the other dimensions together score fewer than MinPoints the usage
// dimension counts for at most UsageCap points: the account stays at
// watch, as a holiday, a term break or a busy spell should.
type Corroboration struct {
	// UsageWeeks is how many latest weeks in a row a usage decline must
	// have been down (each by windows.persistence_share of its signal's
	// threshold) to stand alone. 0 turns corroboration off.
	UsageWeeks int `mapstructure:"usage_weeks" json:"usage_weeks"`
	// MinSeries of logins, active users, DAU/MAU and feature adoption must
	// be down in a week for it to count (all of them, when the week
	// reports fewer): one series sagging is noise.
	MinSeries int `mapstructure:"min_series" json:"min_series"`
	// MinPoints the other four dimensions need together (after their caps,
	// before convergence) to corroborate a transient usage decline.
	MinPoints int `mapstructure:"min_points" json:"min_points"`
	// UsageCap is the usage dimension's cap while a transient decline is
	// not corroborated.
	UsageCap int `mapstructure:"usage_cap" json:"usage_cap"`
	// DeepeningWeeks: a decline down together this many latest weeks in a
	// row (fewer than UsageWeeks) that has deepened since the first of them
	// by DeepeningBy, the usage series' mean drop in multiples of their
	// signals' thresholds, is a slide and stands alone too (model 1.6). 0
	// turns this off.
	DeepeningWeeks int     `mapstructure:"deepening_weeks" json:"deepening_weeks"`
	DeepeningBy    float64 `mapstructure:"deepening_by" json:"deepening_by"`
}

// Slide sets how usage_slide reads a slow decline that several usage series
// share (see "Slow slides" in slide.go).
type Slide struct {
	// MinWeeks is the fewest latest weeks, each below the baseline, a slide
	// is judged over (at most windows.recent_weeks).
	MinWeeks int `mapstructure:"min_weeks" json:"min_weeks"`
	// MinSeries of logins, active users and DAU/MAU must each be down by
	// MinDrop or more over those weeks: one series drifting is noise.
	MinSeries int     `mapstructure:"min_series" json:"min_series"`
	MinDrop   float64 `mapstructure:"min_drop" json:"min_drop"`
	// MinNoise is the least week-to-week spread (0.04 = 4%) a series is
	// assumed to have, so a very even history does not make every small
	// dip look significant.
	MinNoise float64 `mapstructure:"min_noise" json:"min_noise"`
}

// RightSizing tells cutting unused seats from leaving. A customer that asks
// to cut seats, or switches users off, or whose ARR falls, while the people
// who use the product keep using it is trimming its bill, not walking
// away: while active users hold at ActiveShare of their baseline or more,
// or the seats left still cover the active users, downgrade_requested
// and users_deactivated score Factor of their points, and arr_decline
// none (they are still listed). Not while an invoice is overdue past
// signals.invoice_overdue.threshold: a customer that wants to pay less
// while it is not paying is in commercial distress, and
// downgrade_requested and arr_decline then score DistressFactor times
// their points.
type RightSizing struct {
	ActiveShare    float64 `mapstructure:"active_share" json:"active_share"`
	Factor         float64 `mapstructure:"factor" json:"factor"`
	DistressFactor float64 `mapstructure:"distress_factor" json:"distress_factor"`
}

// Peers sets how ScorePortfolio reads usage trends against the dips every
// account had at once (see "Peer-relative usage" in peers.go).
type Peers struct {
	// MinAccounts is the fewest accounts that make a peer group (one
	// language); smaller groups use the whole portfolio. 0 turns peer
	// reading off.
	MinAccounts int `mapstructure:"min_accounts" json:"min_accounts"`
	// MinDip is the smallest common dip (0.1 = peers 10% below their
	// normal) that is taken out of an account's trend.
	MinDip float64 `mapstructure:"min_dip" json:"min_dip"`
}

// Rule scores one signal. The signal fires when its measure reaches
// Threshold, for Points; points grow linearly to SeverePoints as the measure
// reaches Severe. When Severe is below Threshold, lower is worse (an NPS of
// 6 or less, say). Yes/no signals use Points alone.
type Rule struct {
	Threshold    float64 `mapstructure:"threshold" json:"threshold"`
	Points       int     `mapstructure:"points" json:"points"`
	Severe       float64 `mapstructure:"severe" json:"severe"`
	SeverePoints int     `mapstructure:"severe_points" json:"severe_points"`
}

// Signals holds one rule per signal. The measure of each is in its comment.
type Signals struct {
	LoginDrop              Rule `mapstructure:"login_drop" json:"login_drop"`                             // fraction below baseline
	ActiveUsersDrop        Rule `mapstructure:"active_users_drop" json:"active_users_drop"`               // fraction below baseline
	DAUMAUDecline          Rule `mapstructure:"dau_mau_decline" json:"dau_mau_decline"`                   // fraction below baseline
	UsageSlide             Rule `mapstructure:"usage_slide" json:"usage_slide"`                           // shortfall of logins, active users and DAU/MAU, in multiples of their usual noise
	FeatureAdoptionDecline Rule `mapstructure:"feature_adoption_decline" json:"feature_adoption_decline"` // fraction below baseline
	SeatUtilisationLow     Rule `mapstructure:"seat_utilisation_low" json:"seat_utilisation_low"`         // active users / licensed seats (lower is worse)
	UsersDeactivated       Rule `mapstructure:"users_deactivated" json:"users_deactivated"`               // users deactivated within event_weeks, as a share of the usual active users (at least 2 users)
	ChampionDeparted       Rule `mapstructure:"champion_departed" json:"champion_departed"`               // weeks the champion has been reported gone, unreplaced
	ExecSponsorSilence     Rule `mapstructure:"exec_sponsor_silence" json:"exec_sponsor_silence"`         // days since last_exec_contact
	CSMContactGap          Rule `mapstructure:"csm_contact_gap" json:"csm_contact_gap"`                   // days since last_csm_meeting
	NPSLow                 Rule `mapstructure:"nps_low" json:"nps_low"`                                   // latest NPS (lower is worse)
	NPSDrop                Rule `mapstructure:"nps_drop" json:"nps_drop"`                                 // points below the best answer within nps_weeks
	CriticalTicketOpen     Rule `mapstructure:"critical_ticket_open" json:"critical_ticket_open"`         // age in days of the oldest open ticket, when a critical one is open (younger: listed, no points)
	UnresolvedTickets      Rule `mapstructure:"unresolved_tickets" json:"unresolved_tickets"`             // age in days of the oldest open ticket
	Escalations            Rule `mapstructure:"escalations" json:"escalations"`                           // escalations within event_weeks
	IntegrationErrors      Rule `mapstructure:"integration_errors" json:"integration_errors"`             // median weekly errors over the recent window
	InvoiceOverdue         Rule `mapstructure:"invoice_overdue" json:"invoice_overdue"`                   // days overdue
	DowngradeRequested     Rule `mapstructure:"downgrade_requested" json:"downgrade_requested"`           // yes/no within event_weeks
	GoalAtRisk             Rule `mapstructure:"goal_at_risk" json:"goal_at_risk"`                         // yes/no, latest goal_status
	GoalOffTrack           Rule `mapstructure:"goal_off_track" json:"goal_off_track"`                     // yes/no, latest goal_status

	// Signals of the optional columns (model 1.4); arr_decline reads arr.
	TicketVolumeRising Rule `mapstructure:"ticket_volume_rising" json:"ticket_volume_rising"` // median tickets_opened over the recent window, in multiples of the baseline median (at least 2 a week)
	LoginRecency       Rule `mapstructure:"login_recency" json:"login_recency"`               // days since last_login_date
	NPSNoResponse      Rule `mapstructure:"nps_no_response" json:"nps_no_response"`           // days since nps_survey_sent with no answer since, from a customer that answered within nps_weeks before
	ARRDecline         Rule `mapstructure:"arr_decline" json:"arr_decline"`                   // fraction of arr lost: the latest two weeks' against the baseline median
	MeetingsMissed     Rule `mapstructure:"meetings_missed" json:"meetings_missed"`           // meetings missed within event_weeks
}

// EvidenceRule says how much must be observable for the model to judge.
type EvidenceRule struct {
	// MinDimensions of the five must have a field known in the recent
	// window; with fewer (or no usage field at all) the tier is
	// insufficient_evidence unless the known evidence already says elevated
	// or critical.
	MinDimensions int `mapstructure:"min_dimensions" json:"min_dimensions"`
}

// SLAHours is the response time per tier.
type SLAHours struct {
	Critical             int `mapstructure:"critical" json:"critical"`
	Elevated             int `mapstructure:"elevated" json:"elevated"`
	Watch                int `mapstructure:"watch" json:"watch"`
	InsufficientEvidence int `mapstructure:"insufficient_evidence" json:"insufficient_evidence"`
}

// Priority weighs what makes one at-risk account more urgent than another.
// Urgency = risk x (1 + arr_weight*a + renewal_weight*r + strategic_weight*s),
// where a = arr/(arr+arr_reference) in [0,1), r is 1 for a renewal within
// renewal_near_days falling to 0 at renewal_horizon_days, s is 1 for a
// strategic account.
type Priority struct {
	ARRWeight          float64 `mapstructure:"arr_weight" json:"arr_weight"`
	ARRReference       float64 `mapstructure:"arr_reference" json:"arr_reference"`
	RenewalWeight      float64 `mapstructure:"renewal_weight" json:"renewal_weight"`
	RenewalNearDays    int     `mapstructure:"renewal_near_days" json:"renewal_near_days"`
	RenewalHorizonDays int     `mapstructure:"renewal_horizon_days" json:"renewal_horizon_days"`
	StrategicWeight    float64 `mapstructure:"strategic_weight" json:"strategic_weight"`
}

// DefaultModel returns the shipped configuration.
//
// The points are set so that one strong signal alone reaches watch, two
// dimensions in trouble reach elevated, and three or more reach critical:
// the textbook case (logins down 38% over three weeks, the sponsor silent
// six weeks, a critical ticket open 47 days, three users deactivated)
// scores in the high 60s to the 80s depending on what else moved with it.
func DefaultModel() Model {
	return Model{
		Thresholds: Thresholds{Critical: 65, Elevated: 40, Watch: 20},
		Windows: Windows{
			RecentWeeks:      4,
			BaselineWeeks:    8,
			MinBaselineWeeks: 4,
			PersistenceWeeks: 3,
			PersistenceShare: 0.5,
			MinBaselineCount: 5,
			EventWeeks:       4,
			NPSWeeks:         26,
			SeasonalWeeks:    52,
			SkipYearEnd:      true,
			RhythmWeeks:      26,
			RhythmFactor:     1.2,
			RhythmMinShare:   0.5,
			StaleWeeks:       2,
		},
		Dimensions: Dimensions{
			Usage:        Dimension{Weight: 1, Cap: 35},
			Relationship: Dimension{Weight: 1, Cap: 30},
			Support:      Dimension{Weight: 1, Cap: 35},
			Commercial:   Dimension{Weight: 1, Cap: 35},
			Outcome:      Dimension{Weight: 1, Cap: 20},
		},
		Convergence:   Convergence{MinPoints: 8, PointsPerDimension: 5, MinDimensions: 2},
		Corroboration: Corroboration{UsageWeeks: 4, MinSeries: 2, MinPoints: 15, UsageCap: 20, DeepeningWeeks: 2, DeepeningBy: 0.1},
		Slide:         Slide{MinWeeks: 3, MinSeries: 2, MinDrop: 0.03, MinNoise: 0.04},
		RightSizing:   RightSizing{ActiveShare: 0.9, Factor: 0.25, DistressFactor: 1.5},
		Peers:         Peers{MinAccounts: 20, MinDip: 0.05},
		Signals: Signals{
			LoginDrop:              Rule{Threshold: 0.15, Points: 14, Severe: 0.4, SeverePoints: 30},
			ActiveUsersDrop:        Rule{Threshold: 0.15, Points: 14, Severe: 0.4, SeverePoints: 30},
			DAUMAUDecline:          Rule{Threshold: 0.2, Points: 6, Severe: 0.5, SeverePoints: 16},
			UsageSlide:             Rule{Threshold: 4.5, Points: 14, Severe: 8, SeverePoints: 22},
			FeatureAdoptionDecline: Rule{Threshold: 0.2, Points: 5, Severe: 0.5, SeverePoints: 12},
			SeatUtilisationLow:     Rule{Threshold: 0.5, Points: 3, Severe: 0.2, SeverePoints: 10},
			UsersDeactivated:       Rule{Threshold: 0.05, Points: 6, Severe: 0.25, SeverePoints: 15},
			ChampionDeparted:       Rule{Threshold: 1, Points: 5, Severe: 6, SeverePoints: 18},
			ExecSponsorSilence:     Rule{Threshold: 30, Points: 8, Severe: 90, SeverePoints: 18},
			CSMContactGap:          Rule{Threshold: 45, Points: 4, Severe: 120, SeverePoints: 10},
			NPSLow:                 Rule{Threshold: 6, Points: 6, Severe: 0, SeverePoints: 16},
			NPSDrop:                Rule{Threshold: 2, Points: 5, Severe: 4, SeverePoints: 12},
			CriticalTicketOpen:     Rule{Threshold: 14, Points: 10, Severe: 60, SeverePoints: 20},
			UnresolvedTickets:      Rule{Threshold: 30, Points: 1, Severe: 90, SeverePoints: 4},
			Escalations:            Rule{Threshold: 1, Points: 6, Severe: 4, SeverePoints: 15},
			IntegrationErrors:      Rule{Threshold: 5, Points: 3, Severe: 50, SeverePoints: 10},
			InvoiceOverdue:         Rule{Threshold: 30, Points: 8, Severe: 90, SeverePoints: 20},
			DowngradeRequested:     Rule{Points: 18},
			GoalAtRisk:             Rule{Points: 8},
			GoalOffTrack:           Rule{Points: 18},
			TicketVolumeRising:     Rule{Threshold: 2, Points: 4, Severe: 4, SeverePoints: 10},
			LoginRecency:           Rule{Threshold: 14, Points: 10, Severe: 45, SeverePoints: 25},
			NPSNoResponse:          Rule{Threshold: 21, Points: 2, Severe: 60, SeverePoints: 5},
			ARRDecline:             Rule{Threshold: 0.1, Points: 4, Severe: 0.5, SeverePoints: 12},
			MeetingsMissed:         Rule{Threshold: 2, Points: 4, Severe: 4, SeverePoints: 10},
		},
		Evidence: EvidenceRule{MinDimensions: 3},
		SLAHours: SLAHours{Critical: 48, Elevated: 168, Watch: 336, InsufficientEvidence: 168},
		Priority: Priority{
			ARRWeight:          0.6,
			ARRReference:       100000,
			RenewalWeight:      0.6,
			RenewalNearDays:    30,
			RenewalHorizonDays: 180,
			StrategicWeight:    0.3,
		},
	}
}

// maxWindow bounds the windows so a week's slots fit a fixed array.
const maxWindow = 60

// Validate checks the configuration; each error names its key
// (risk.thresholds.critical: must be above risk.thresholds.elevated).
func (m Model) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("risk.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	t := m.Thresholds
	switch {
	case t.Critical > 100:
		bad("thresholds.critical", "must be at most 100, got %d", t.Critical)
	case t.Critical <= t.Elevated:
		bad("thresholds.critical", "must be above risk.thresholds.elevated (%d), got %d", t.Elevated, t.Critical)
	}
	if t.Elevated <= t.Watch {
		bad("thresholds.elevated", "must be above risk.thresholds.watch (%d), got %d", t.Watch, t.Elevated)
	}
	if t.Watch <= 0 {
		bad("thresholds.watch", "must be above 0, got %d", t.Watch)
	}

	w := m.Windows
	positive := func(key string, v int) {
		if v < 1 || v > maxWindow {
			bad(key, "must be between 1 and %d weeks, got %d", maxWindow, v)
		}
	}
	positive("windows.recent_weeks", w.RecentWeeks)
	positive("windows.baseline_weeks", w.BaselineWeeks)
	positive("windows.event_weeks", w.EventWeeks)
	if w.RhythmWeeks < 1 {
		bad("windows.rhythm_weeks", "must be at least 1 week, got %d", w.RhythmWeeks)
	}
	if !(w.RhythmFactor == 0 || (w.RhythmFactor >= 1 && w.RhythmFactor <= 10)) {
		bad("windows.rhythm_factor", "must be 0 (off) or between 1 and 10, got %v", w.RhythmFactor)
	}
	if !(w.RhythmMinShare > 0 && w.RhythmMinShare <= 1) {
		bad("windows.rhythm_min_share", "must be above 0 and at most 1, got %v", w.RhythmMinShare)
	}
	if w.NPSWeeks < 1 {
		bad("windows.nps_weeks", "must be at least 1 week, got %d", w.NPSWeeks)
	}
	if w.RecentWeeks+w.BaselineWeeks > maxWindow {
		bad("windows.baseline_weeks", "recent_weeks + baseline_weeks must be at most %d, got %d", maxWindow, w.RecentWeeks+w.BaselineWeeks)
	}
	if w.MinBaselineWeeks < 1 || w.MinBaselineWeeks > w.BaselineWeeks {
		bad("windows.min_baseline_weeks", "must be between 1 and risk.windows.baseline_weeks (%d), got %d", w.BaselineWeeks, w.MinBaselineWeeks)
	}
	if w.PersistenceWeeks < 1 || w.PersistenceWeeks > w.RecentWeeks {
		bad("windows.persistence_weeks", "must be between 1 and risk.windows.recent_weeks (%d), got %d", w.RecentWeeks, w.PersistenceWeeks)
	}
	if w.MinBaselineCount < 0 || math.IsNaN(w.MinBaselineCount) {
		bad("windows.min_baseline_count", "must not be negative, got %v", w.MinBaselineCount)
	}
	if !(w.PersistenceShare > 0 && w.PersistenceShare <= 1) {
		bad("windows.persistence_share", "must be above 0 and at most 1, got %v", w.PersistenceShare)
	}
	if w.StaleWeeks < 0 || w.StaleWeeks > w.RecentWeeks {
		bad("windows.stale_weeks", "must be 0 (off) or between 1 and risk.windows.recent_weeks (%d), got %d", w.RecentWeeks, w.StaleWeeks)
	}
	if w.SeasonalWeeks != 0 && w.SeasonalWeeks < w.RecentWeeks+w.BaselineWeeks {
		bad("windows.seasonal_weeks", "must be 0 (off) or at least recent_weeks + baseline_weeks (%d), got %d", w.RecentWeeks+w.BaselineWeeks, w.SeasonalWeeks)
	}

	for _, d := range m.dimensionList() {
		if d.dim.Weight < 0 || d.dim.Weight > 10 || math.IsNaN(d.dim.Weight) {
			bad("dimensions."+d.name+".weight", "must be between 0 and 10, got %v", d.dim.Weight)
		}
		if d.dim.Cap < 0 || d.dim.Cap > 100 {
			bad("dimensions."+d.name+".cap", "must be between 0 and 100, got %d", d.dim.Cap)
		}
	}
	if !(m.RightSizing.ActiveShare >= 0 && m.RightSizing.ActiveShare <= 1) {
		bad("right_sizing.active_share", "must be a fraction between 0 and 1, got %v", m.RightSizing.ActiveShare)
	}
	if !(m.RightSizing.Factor >= 0 && m.RightSizing.Factor <= 1) {
		bad("right_sizing.factor", "must be between 0 and 1, got %v", m.RightSizing.Factor)
	}
	if !(m.RightSizing.DistressFactor >= 1 && m.RightSizing.DistressFactor <= 3) {
		bad("right_sizing.distress_factor", "must be between 1 and 3, got %v", m.RightSizing.DistressFactor)
	}
	if m.Peers.MinAccounts < 0 {
		bad("peers.min_accounts", "must not be negative (0 = off), got %d", m.Peers.MinAccounts)
	}
	if !(m.Peers.MinDip >= 0 && m.Peers.MinDip < 1) {
		bad("peers.min_dip", "must be a fraction from 0 up to 1, got %v", m.Peers.MinDip)
	}
	if sl := m.Slide; sl.MinWeeks < 1 || sl.MinWeeks > w.RecentWeeks {
		bad("slide.min_weeks", "must be between 1 and risk.windows.recent_weeks (%d), got %d", w.RecentWeeks, sl.MinWeeks)
	}
	if m.Slide.MinSeries < 1 || m.Slide.MinSeries > slideSeries {
		bad("slide.min_series", "must be between 1 and %d, got %d", slideSeries, m.Slide.MinSeries)
	}
	if !(m.Slide.MinDrop >= 0 && m.Slide.MinDrop < 1) {
		bad("slide.min_drop", "must be a fraction from 0 up to 1, got %v", m.Slide.MinDrop)
	}
	if !(m.Slide.MinNoise > 0 && m.Slide.MinNoise < 1) {
		bad("slide.min_noise", "must be a fraction above 0 and below 1, got %v", m.Slide.MinNoise)
	}
	if c := m.Corroboration; c.UsageWeeks < 0 || c.UsageWeeks > w.RecentWeeks {
		bad("corroboration.usage_weeks", "must be 0 (off) or between 1 and risk.windows.recent_weeks (%d), got %d", w.RecentWeeks, c.UsageWeeks)
	}
	if m.Corroboration.MinSeries < 1 || m.Corroboration.MinSeries > len(trendSpecs) {
		bad("corroboration.min_series", "must be between 1 and %d, got %d", len(trendSpecs), m.Corroboration.MinSeries)
	}
	if m.Corroboration.MinPoints < 0 || m.Corroboration.MinPoints > 100 {
		bad("corroboration.min_points", "must be between 0 and 100, got %d", m.Corroboration.MinPoints)
	}
	if m.Corroboration.UsageCap < 0 || m.Corroboration.UsageCap > 100 {
		bad("corroboration.usage_cap", "must be between 0 and 100, got %d", m.Corroboration.UsageCap)
	}
	if c := m.Corroboration; c.DeepeningWeeks < 0 || c.DeepeningWeeks == 1 || (c.UsageWeeks > 0 && c.DeepeningWeeks >= c.UsageWeeks) {
		bad("corroboration.deepening_weeks", "must be 0 (off) or at least 2 and below risk.corroboration.usage_weeks (%d), got %d", c.UsageWeeks, c.DeepeningWeeks)
	}
	if d := m.Corroboration.DeepeningBy; !(d >= 0 && d <= 10) {
		bad("corroboration.deepening_by", "must be between 0 and 10 (multiples of the signals' thresholds), got %v", d)
	}
	if m.Convergence.MinPoints < 0 {
		bad("convergence.min_points", "must not be negative, got %d", m.Convergence.MinPoints)
	}
	if m.Convergence.MinDimensions < 2 || m.Convergence.MinDimensions > len(dimensionNames) {
		bad("convergence.min_dimensions", "must be between 2 and %d, got %d", len(dimensionNames), m.Convergence.MinDimensions)
	}
	if m.Convergence.PointsPerDimension < 0 || m.Convergence.PointsPerDimension > 50 {
		bad("convergence.points_per_dimension", "must be between 0 and 50, got %d", m.Convergence.PointsPerDimension)
	}

	for _, def := range signalDefs {
		r := def.rule(&m.Signals)
		key := "signals." + def.id
		if r.Points < 0 || r.Points > 100 {
			bad(key+".points", "must be between 0 and 100, got %d", r.Points)
		}
		if def.kind == yesNo {
			continue
		}
		if r.SeverePoints < r.Points || r.SeverePoints > 100 {
			bad(key+".severe_points", "must be between risk.%s.points (%d) and 100, got %d", key, r.Points, r.SeverePoints)
		}
		if math.IsNaN(r.Threshold) || math.IsNaN(r.Severe) {
			bad(key, "threshold and severe must be numbers")
			continue
		}
		if def.kind == fractionDrop && (r.Threshold <= 0 || r.Threshold >= 1) {
			bad(key+".threshold", "must be a fraction between 0 and 1 (0.2 = 20%%), got %v", r.Threshold)
		}
		if def.lowerIsWorse {
			if r.Severe >= r.Threshold {
				bad(key+".severe", "must be below risk.%s.threshold (%v) since lower is worse, got %v", key, r.Threshold, r.Severe)
			}
		} else if r.Severe <= r.Threshold {
			bad(key+".severe", "must be above risk.%s.threshold (%v), got %v", key, r.Threshold, r.Severe)
		}
		if def.kind == fractionDrop && r.Severe > 1 {
			bad(key+".severe", "must be a fraction of at most 1, got %v", r.Severe)
		}
	}

	if m.Evidence.MinDimensions < 1 || m.Evidence.MinDimensions > len(dimensionNames) {
		bad("evidence.min_dimensions", "must be between 1 and %d, got %d", len(dimensionNames), m.Evidence.MinDimensions)
	}
	for key, v := range map[string]int{
		"sla_hours.critical": m.SLAHours.Critical, "sla_hours.elevated": m.SLAHours.Elevated,
		"sla_hours.watch": m.SLAHours.Watch, "sla_hours.insufficient_evidence": m.SLAHours.InsufficientEvidence,
	} {
		if v < 0 {
			bad(key, "must not be negative, got %d", v)
		}
	}
	if m.SLAHours.Critical > m.SLAHours.Elevated {
		bad("sla_hours.critical", "must not exceed risk.sla_hours.elevated (%d), got %d", m.SLAHours.Elevated, m.SLAHours.Critical)
	}
	p := m.Priority
	for key, v := range map[string]float64{
		"priority.arr_weight": p.ARRWeight, "priority.renewal_weight": p.RenewalWeight, "priority.strategic_weight": p.StrategicWeight,
	} {
		if v < 0 || v > 10 || math.IsNaN(v) {
			bad(key, "must be between 0 and 10, got %v", v)
		}
	}
	if !(p.ARRReference > 0) {
		bad("priority.arr_reference", "must be above 0, got %v", p.ARRReference)
	}
	if p.RenewalNearDays < 0 {
		bad("priority.renewal_near_days", "must not be negative, got %d", p.RenewalNearDays)
	}
	if p.RenewalHorizonDays <= p.RenewalNearDays {
		bad("priority.renewal_horizon_days", "must be above risk.priority.renewal_near_days (%d), got %d", p.RenewalNearDays, p.RenewalHorizonDays)
	}
	sortErrors(errs)
	return errors.Join(errs...)
}

// sortErrors orders errors by text so Validate's output is stable (two
// checks iterate maps).
func sortErrors(errs []error) {
	for i := 1; i < len(errs); i++ {
		for j := i; j > 0 && errs[j].Error() < errs[j-1].Error(); j-- {
			errs[j], errs[j-1] = errs[j-1], errs[j]
		}
	}
}

// Hash is a short, stable fingerprint of the configuration, recorded with
// every assessment so a score can be traced to the settings that made it.
func (m Model) Hash() string {
	// Scoring asks for the hash once per account; the model rarely changes.
	if c := hashCache.Load(); c != nil && c.model == m {
		return c.hash
	}
	h := m.computeHash()
	hashCache.Store(&cachedHash{model: m, hash: h})
	return h
}

type cachedHash struct {
	model Model
	hash  string
}

var hashCache atomic.Pointer[cachedHash]

func (m Model) computeHash() string {
	b, err := json.Marshal(m)
	if err != nil { // a Model holds only numbers; this cannot happen
		panic(fmt.Sprintf("risk: hash model: %v", err))
	}
	sum := sha256.Sum256(append([]byte(ModelVersion+"\n"), b...))
	return hex.EncodeToString(sum[:6])
}

// points applies the rule to a measure; 0 means the signal does not fire.
func (r Rule) points(x float64, lowerIsWorse bool) int {
	fires := x >= r.Threshold
	if lowerIsWorse {
		fires = x <= r.Threshold
	}
	if !fires {
		return 0
	}
	span := r.Severe - r.Threshold
	if span == 0 || r.SeverePoints <= r.Points {
		return r.Points
	}
	f := (x - r.Threshold) / span
	if f > 1 {
		f = 1
	}
	if f < 0 {
		f = 0
	}
	return r.Points + int(math.Round(f*float64(r.SeverePoints-r.Points)))
}

func (r Rule) fires(x float64, lowerIsWorse bool) bool {
	if lowerIsWorse {
		return x <= r.Threshold
	}
	return x >= r.Threshold
}
