// Package summary turns the decision record into what leaders read: the
// weekly summary (tiers, ARR at risk, interventions, outcomes, the measured
// rates) and the audit of decision packets. Everything here is computed from
// the store; nothing is written.
//
// A rate whose denominator is zero is null, never 0: unknown is not zero.
package summary

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/store"
)

// OutreachWindowDays is the save window: approved outreach within 14 days of
// the first flag is what the team aims for.
const OutreachWindowDays = 14

// TopAccounts is how many accounts the summary lists by ARR at risk.
const TopAccounts = 10

// Summary is the leadership view of one scored week.
type Summary struct {
	Week         string `json:"week"`
	PreviousWeek string `json:"previous_week,omitempty"` // the scored week before, if any
	Accounts     int    `json:"accounts"`

	Tiers     TierCounts `json:"tiers"`
	ARRByTier TierARR    `json:"arr_by_tier"`
	ARRAtRisk float64    `json:"arr_at_risk"` // elevated + critical
	// Change is this week minus the previous scored week; null when there is
	// no previous week.
	Change *Change `json:"change_from_previous_week"`

	TopAtRisk []TopAccount `json:"top_accounts_at_risk"` // elevated and critical, by ARR

	// Reviews, interventions and outcomes count the reviews of every cycle up
	// to and including Week, with all their events recorded so far.
	Reviews       int           `json:"reviews"`
	Interventions Interventions `json:"interventions"`
	Outcomes      Outcomes      `json:"outcomes"`

	SaveRate          *float64 `json:"save_rate"`           // saved / (saved + churned)
	FalsePositiveRate *float64 `json:"false_positive_rate"` // rejected or found false positive / decided
	// MedianDaysFlagToOutreach is the median time from a review's first flag
	// to its approved outreach, over the reviews with approved outreach.
	MedianDaysFlagToOutreach *float64 `json:"median_days_flag_to_outreach"`
	// OutreachWithinWindowRate is the share of approved outreach that came
	// within OutreachWindowDays of the flag.
	OutreachWithinWindowRate *float64 `json:"outreach_within_14_days_rate"`

	PacketCompleteness Completeness `json:"packet_completeness"`
}

// TierCounts counts accounts per tier. Every tier is always present.
type TierCounts struct {
	Critical             int `json:"critical"`
	Elevated             int `json:"elevated"`
	Watch                int `json:"watch"`
	Healthy              int `json:"healthy"`
	InsufficientEvidence int `json:"insufficient_evidence"`
}

// TierARR sums ARR per tier.
type TierARR struct {
	Critical             float64 `json:"critical"`
	Elevated             float64 `json:"elevated"`
	Watch                float64 `json:"watch"`
	Healthy              float64 `json:"healthy"`
	InsufficientEvidence float64 `json:"insufficient_evidence"`
}

// Change is the week-over-week difference.
type Change struct {
	Tiers     TierCounts `json:"tiers"`
	ARRByTier TierARR    `json:"arr_by_tier"`
	ARRAtRisk float64    `json:"arr_at_risk"`
}

// TopAccount is one at-risk account in the top list.
type TopAccount struct {
	AccountID   string    `json:"account_id"`
	AccountName string    `json:"account_name"`
	Owner       string    `json:"owner"`
	Tier        risk.Tier `json:"tier"`
	Score       int       `json:"score"`
	ARR         float64   `json:"arr"`
	RenewalDate string    `json:"renewal_date,omitempty"`
	ReviewID    string    `json:"review_id,omitempty"`
	ReviewState string    `json:"review_state,omitempty"`
}

// Interventions counts what was done about the flagged accounts.
type Interventions struct {
	Decided          int `json:"decided"`
	OutreachApproved int `json:"outreach_approved"` // approved or edited and approved
	Rejected         int `json:"rejected"`
	ActionsAssigned  int `json:"actions_assigned"`
	OutreachSent     int `json:"outreach_sent"`
	CustomerReplied  int `json:"customer_responded"`
	Escalated        int `json:"escalated"`
	AwaitingDecision int `json:"awaiting_decision"`
}

// Outcomes counts the recorded outcomes; Pending is the open reviews still
// without one (a rejected review expects no outcome).
type Outcomes struct {
	Saved         int `json:"saved"`
	Churned       int `json:"churned"`
	StillAtRisk   int `json:"still_at_risk"`
	FalsePositive int `json:"false_positive"`
	Pending       int `json:"pending"`
}

// Completeness is the share of the week's elevated and critical accounts
// whose decision packet has all eight parts.
type Completeness struct {
	Rate       *float64           `json:"rate"`
	AtRisk     int                `json:"at_risk"`
	Complete   int                `json:"complete"`
	Incomplete []IncompletePacket `json:"incomplete"`
}

// IncompletePacket names an at-risk account whose packet lacks parts. An
// account with no packet at all has an empty ReviewID and every part missing.
type IncompletePacket struct {
	ReviewID    string    `json:"review_id"`
	AccountID   string    `json:"account_id"`
	AccountName string    `json:"account_name,omitempty"`
	Owner       string    `json:"owner,omitempty"`
	Tier        risk.Tier `json:"tier"`
	ARR         float64   `json:"arr"`
	Missing     []string  `json:"missing"`
}

// ErrNoScores is returned, or wrapped, when the store holds no scores for
// the week asked for: none at all, or none that week.
var ErrNoScores = errors.New("no scores stored yet: run `starter scan` first")

// noScoresFor is ErrNoScores for a week that was not scored, with the
// weeks that were.
type noScoresFor struct{ msg string }

func (e noScoresFor) Error() string        { return e.msg }
func (e noScoresFor) Is(target error) bool { return target == ErrNoScores }

// Build summarizes one scored week; week "" is the latest scored week.
func Build(ctx context.Context, st store.Store, week string) (Summary, error) {
	week, prevWeek, err := resolveWeek(ctx, st, week)
	if err != nil {
		return Summary{}, err
	}
	rows, err := st.ScoreRows(ctx, week)
	if err != nil {
		return Summary{}, err
	}
	atRisk, err := atRiskAssessments(ctx, st, week, rows)
	if err != nil {
		return Summary{}, err
	}
	packets, err := st.Packets(ctx, store.PacketFilter{Through: week})
	if err != nil {
		return Summary{}, err
	}
	events, err := st.Events(ctx, store.EventFilter{})
	if err != nil {
		return Summary{}, err
	}

	s := Summary{Week: week, PreviousWeek: prevWeek, Accounts: len(rows), TopAtRisk: []TopAccount{}}
	s.Tiers, s.ARRByTier = tally(rows)
	s.ARRAtRisk = s.ARRByTier.Critical + s.ARRByTier.Elevated
	if prevWeek != "" {
		prev, err := st.ScoreRows(ctx, prevWeek)
		if err != nil {
			return Summary{}, err
		}
		pc, pa := tally(prev)
		s.Change = &Change{
			Tiers:     diffCounts(s.Tiers, pc),
			ARRByTier: diffARR(s.ARRByTier, pa),
			ARRAtRisk: s.ARRAtRisk - (pa.Critical + pa.Elevated),
		}
	}

	latest := latestPacketByAccount(packets)
	for _, a := range atRisk[:min(TopAccounts, len(atRisk))] {
		top := TopAccount{AccountID: a.AccountID, AccountName: a.AccountName, Owner: a.Owner, Tier: a.Tier,
			Score: a.Score, ARR: a.ARR, RenewalDate: a.RenewalDate}
		if p, ok := latest[a.AccountID]; ok {
			top.ReviewID, top.ReviewState = p.ReviewID, string(p.State)
		}
		s.TopAtRisk = append(s.TopAtRisk, top)
	}
	// Open packets are judged as they stand now: an SLA passing unchased
	// makes a packet incomplete today.
	s.PacketCompleteness = completeness(atRisk, latest, time.Now())

	recs := reviewRecords(week, packets, events)
	s.Reviews = len(recs)
	measure(&s, recs)
	return s, nil
}

// resolveWeek checks the week has scores (or picks the latest) and finds the
// scored week before it.
// ResolveWeek returns week if it was scored, the latest scored week if week
// is "", or an error wrapping ErrNoScores that names the weeks there are.
func ResolveWeek(ctx context.Context, st store.Store, week string) (string, error) {
	week, _, err := resolveWeek(ctx, st, week)
	return week, err
}

func resolveWeek(ctx context.Context, st store.Store, week string) (string, string, error) {
	weeks, err := st.Weeks(ctx)
	if err != nil {
		return "", "", err
	}
	if len(weeks) == 0 {
		return "", "", ErrNoScores
	}
	if week == "" {
		week = weeks[len(weeks)-1]
	}
	i, found := slices.BinarySearch(weeks, week)
	if !found {
		return "", "", noScoresFor{fmt.Sprintf("no scores for week %s (scored weeks: %s to %s; weeks are Mondays, YYYY-MM-DD)", week, weeks[0], weeks[len(weeks)-1])}
	}
	prev := ""
	if i > 0 {
		prev = weeks[i-1]
	}
	return week, prev, nil
}

func tally(as []store.ScoreRow) (TierCounts, TierARR) {
	var c TierCounts
	var arr TierARR
	for _, a := range as {
		switch a.Tier {
		case risk.Critical:
			c.Critical++
			arr.Critical += a.ARR
		case risk.Elevated:
			c.Elevated++
			arr.Elevated += a.ARR
		case risk.Watch:
			c.Watch++
			arr.Watch += a.ARR
		case risk.Healthy:
			c.Healthy++
			arr.Healthy += a.ARR
		default: // insufficient evidence, or a tier this build does not know: never healthy
			c.InsufficientEvidence++
			arr.InsufficientEvidence += a.ARR
		}
	}
	return c, arr
}

func diffCounts(a, b TierCounts) TierCounts {
	return TierCounts{a.Critical - b.Critical, a.Elevated - b.Elevated, a.Watch - b.Watch, a.Healthy - b.Healthy,
		a.InsufficientEvidence - b.InsufficientEvidence}
}

func diffARR(a, b TierARR) TierARR {
	return TierARR{a.Critical - b.Critical, a.Elevated - b.Elevated, a.Watch - b.Watch, a.Healthy - b.Healthy,
		a.InsufficientEvidence - b.InsufficientEvidence}
}

// atRiskAssessments loads the week's elevated and critical assessments in
// full, largest ARR first (critical before elevated on equal ARR, then by
// account ID). Only these are decoded: they are a small part of the book.
func atRiskAssessments(ctx context.Context, st store.Store, week string, rows []store.ScoreRow) ([]risk.Assessment, error) {
	var ids []string
	for _, r := range rows {
		if r.Tier.AtRisk() {
			ids = append(ids, r.AccountID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	as, err := st.ScoresAsOf(ctx, week, ids...)
	if err != nil {
		return nil, err
	}
	out := as[:0]
	for _, a := range as {
		if a.Tier.AtRisk() { // a rescore may have landed between the two reads
			out = append(out, a)
		}
	}
	sortByARR(out)
	return out, nil
}

func sortByARR(out []risk.Assessment) {
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].ARR != out[j].ARR {
			return out[i].ARR > out[j].ARR
		}
		if out[i].Tier != out[j].Tier {
			return out[i].Tier == risk.Critical
		}
		return out[i].AccountID < out[j].AccountID
	})
}

// latestPacketByAccount keeps each account's packet of the latest cycle.
// packets come ordered by cycle, so the last one seen wins.
func latestPacketByAccount(packets []review.Packet) map[string]review.Packet {
	out := make(map[string]review.Packet, len(packets))
	for _, p := range packets {
		if cur, ok := out[p.AccountID]; !ok || p.Cycle >= cur.Cycle {
			out[p.AccountID] = p
		}
	}
	return out
}

func completeness(atRisk []risk.Assessment, latest map[string]review.Packet, at time.Time) Completeness {
	c := Completeness{AtRisk: len(atRisk), Incomplete: []IncompletePacket{}}
	for _, a := range atRisk {
		p, ok := latest[a.AccountID]
		var missing []string
		if ok {
			missing = p.Missing(at)
		} else {
			missing = slices.Clone(review.PacketParts)
		}
		if len(missing) == 0 {
			c.Complete++
			continue
		}
		c.Incomplete = append(c.Incomplete, IncompletePacket{ReviewID: p.ReviewID, AccountID: a.AccountID,
			AccountName: a.AccountName, Owner: a.Owner, Tier: a.Tier, ARR: a.ARR, Missing: missing})
	}
	c.Rate = ratio(c.Complete, c.AtRisk)
	return c
}

// record is what the summary knows of one review, merged from its packet
// and its measurement events (events first: they are the append-only record).
type record struct {
	reviewID        string
	flaggedAt       time.Time
	decided         bool
	approvedAt      time.Time // zero unless outreach was approved
	approved        bool
	rejected        bool
	actionAssigned  bool
	outreachSent    bool
	customerReplied bool
	escalated       bool
	closed          bool
	outcome         review.OutcomeKind
}

// reviewRecords gathers the reviews of cycles up to week. A review known
// only from events is placed by the cycle in its ID (review/<account>/<cycle>).
func reviewRecords(week string, packets []review.Packet, events []review.Event) []*record {
	byID := map[string]*record{}
	var order []string
	get := func(id string) *record {
		r, ok := byID[id]
		if !ok {
			r = &record{reviewID: id}
			byID[id] = r
			order = append(order, id)
		}
		return r
	}
	for _, p := range packets {
		get(p.ReviewID) // packets were already limited to cycles <= week
	}
	for _, e := range events {
		if e.ReviewID == "" {
			continue
		}
		if _, ok := byID[e.ReviewID]; !ok {
			if cycle := cycleOf(e.ReviewID); cycle == "" || cycle > week {
				continue
			}
		}
		r := get(e.ReviewID)
		switch e.Kind {
		case review.EventFlagged:
			if r.flaggedAt.IsZero() || e.At.Before(r.flaggedAt) {
				r.flaggedAt = e.At
			}
		case review.EventReviewed:
			r.decided = true
			switch review.DecisionKind(e.Detail) {
			case review.Approve, review.EditAndApprove:
				r.approve(e.At)
			case review.Reject:
				r.rejected = true
			}
		case review.EventRiskRejected:
			r.decided, r.rejected = true, true
		case review.EventActionAssigned:
			r.actionAssigned = true
			r.approve(e.At) // an action is only assigned once outreach is approved
		case review.EventOutreachSent:
			r.outreachSent = true
		case review.EventCustomerResponded:
			r.customerReplied = true
		case review.EventEscalated:
			r.escalated = true
		case review.EventSaved:
			r.outcome = review.Saved
		case review.EventChurned:
			r.outcome = review.Churned
		case review.EventStillAtRisk:
			r.outcome = review.StillAtRisk
		case review.EventFalsePositive:
			r.outcome = review.FalsePositive
		}
	}
	// Packets fill in what events do not say (older data, or an event write
	// still being retried).
	for _, p := range packets {
		r := byID[p.ReviewID]
		if r.flaggedAt.IsZero() {
			r.flaggedAt = p.CreatedAt
		}
		if d := p.Decision; d != nil {
			r.decided = true
			switch d.Kind {
			case review.Approve, review.EditAndApprove:
				r.approve(d.At)
			case review.Reject:
				r.rejected = true
			}
		}
		if p.Action != nil {
			r.actionAssigned = true
		}
		if p.Escalation.EscalatedTo != "" {
			r.escalated = true
		}
		if r.outcome == "" && p.Outcome != nil {
			r.outcome = p.Outcome.Kind
		}
		r.closed = p.State == review.Closed || p.State == review.Rejected
	}
	out := make([]*record, len(order))
	for i, id := range order {
		out[i] = byID[id]
	}
	return out
}

// approve notes approved outreach at t, keeping the earliest time seen.
func (r *record) approve(t time.Time) {
	r.decided = true
	if !r.approved || (!t.IsZero() && (r.approvedAt.IsZero() || t.Before(r.approvedAt))) {
		r.approvedAt = t
	}
	r.approved = true
}

// cycleOf reads the cycle from a review ID made by review.ID.
func cycleOf(reviewID string) string {
	i := strings.LastIndexByte(reviewID, '/')
	if !strings.HasPrefix(reviewID, "review/") || i < 0 {
		return ""
	}
	if _, err := time.Parse(time.DateOnly, reviewID[i+1:]); err != nil {
		return ""
	}
	return reviewID[i+1:]
}

// measure fills in the interventions, outcomes and rates.
func measure(s *Summary, recs []*record) {
	var falsePositives int
	var days []float64
	within := 0
	for _, r := range recs {
		iv := &s.Interventions
		if r.decided {
			iv.Decided++
		} else if !r.closed {
			iv.AwaitingDecision++
		}
		if r.approved {
			iv.OutreachApproved++
		}
		if r.rejected {
			iv.Rejected++
		}
		if r.actionAssigned {
			iv.ActionsAssigned++
		}
		if r.outreachSent {
			iv.OutreachSent++
		}
		if r.customerReplied {
			iv.CustomerReplied++
		}
		if r.escalated {
			iv.Escalated++
		}
		switch r.outcome {
		case review.Saved:
			s.Outcomes.Saved++
		case review.Churned:
			s.Outcomes.Churned++
		case review.StillAtRisk:
			s.Outcomes.StillAtRisk++
		case review.FalsePositive:
			s.Outcomes.FalsePositive++
		default:
			if !r.rejected && !r.closed {
				s.Outcomes.Pending++
			}
		}
		if r.decided && (r.rejected || r.outcome == review.FalsePositive) {
			falsePositives++
		}
		if r.approved && !r.flaggedAt.IsZero() && !r.approvedAt.IsZero() {
			d := r.approvedAt.Sub(r.flaggedAt).Hours() / 24
			if d < 0 {
				d = 0 // clocks of different writers; an approval cannot precede its flag
			}
			days = append(days, d)
			if d <= OutreachWindowDays {
				within++
			}
		}
	}
	s.SaveRate = ratio(s.Outcomes.Saved, s.Outcomes.Saved+s.Outcomes.Churned)
	s.FalsePositiveRate = ratio(falsePositives, s.Interventions.Decided)
	s.MedianDaysFlagToOutreach = median(days)
	s.OutreachWithinWindowRate = ratio(within, len(days))
}

// ratio is n/d rounded to four places, or nil when d is zero.
func ratio(n, d int) *float64 {
	if d == 0 {
		return nil
	}
	v := math.Round(float64(n)/float64(d)*10000) / 10000
	return &v
}

// median rounds to two places; nil for no values.
func median(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	m := xs[len(xs)/2]
	if len(xs)%2 == 0 {
		m = (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
	}
	m = math.Round(m*100) / 100
	return &m
}
