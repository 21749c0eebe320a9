package summary

import (
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/store"
)

// DefaultTrendWeeks is how many scored weeks the dashboard shows unless asked.
const DefaultTrendWeeks = 12

// MaxTrendWeeks bounds a query: the page takes the number from its URL, and
// every week not in trendRows costs one read of the whole book's score rows.
const MaxTrendWeeks = 104

// TrendQuery selects the dashboard's window and the people it covers.
type TrendQuery struct {
	Through string                    // last week shown (YYYY-MM-DD); "" = the latest scored week
	Weeks   int                       // how many scored weeks (0 = DefaultTrendWeeks)
	Owners  []string                  // only these owners' accounts and reviews (a manager's team); nil = everybody
	TeamOf  func(owner string) string // groups owners into teams (their manager); nil = one team ""
}

// Trends are the dashboard's week-by-week figures over the last N scored weeks.
type Trends struct {
	Through string       `json:"through"`
	Weeks   []WeekTrend  `json:"weeks"`    // oldest first
	ByOwner []GroupTrend `json:"by_owner"` // ARR at risk descending, then name
	ByTeam  []GroupTrend `json:"by_team"`  // likewise
}

// The keys of WeekTrend.Drill. Every key is always present, with an empty
// list when nothing is behind it. The lists hold review IDs, sorted, except
// DrillNoReview, which holds the account IDs of at-risk accounts that have
// no review at all (they have no review ID to link to).
const (
	DrillOpened        = "opened"         // ReviewsOpened
	DrillDecided       = "decided"        // ReviewsDecided
	DrillSavedWithin   = "saved_within"   // SavedWithinWindow.Saved
	DrillSavedLater    = "saved_later"    // SavedAfterWindow.Saved
	DrillChurnedWithin = "churned_within" // SavedWithinWindow.Churned
	DrillChurnedLater  = "churned_later"  // SavedAfterWindow.Churned
	DrillChurned       = "churned"        // both of the above
	DrillFalsePositive = "false_positive" // FalsePositives
	DrillIncomplete    = "incomplete"     // incomplete packets with a review
	DrillNoReview      = "no_review"      // account IDs; with DrillIncomplete, PacketsAtRisk - PacketsComplete
)

var drillKeys = []string{DrillOpened, DrillDecided, DrillSavedWithin, DrillSavedLater, DrillChurnedWithin,
	DrillChurnedLater, DrillChurned, DrillFalsePositive, DrillIncomplete, DrillNoReview}

// WeekTrend is one scored week. A week runs from its Monday 00:00 UTC for
// seven days; "as of the week" means with what was recorded before its end.
type WeekTrend struct {
	Week      string     `json:"week"`
	Accounts  int        `json:"accounts"`
	Tiers     TierCounts `json:"tiers"`
	ARRByTier TierARR    `json:"arr_by_tier"`
	ARRAtRisk float64    `json:"arr_at_risk"` // elevated + critical

	// The week's flow: reviews whose cycle is the week, and reviews of any
	// cycle whose decision is dated within it.
	ReviewsOpened         int      `json:"reviews_opened"`
	ReviewsDecided        int      `json:"reviews_decided"`
	MedianHoursToDecision *float64 `json:"median_hours_to_decision"` // packet creation to decision

	// To date: Build's figures over the reviews of every cycle up to the
	// week, as of the week's end (a later decision or outcome does not count
	// yet), so the latest week agrees with Build while it lasts.
	ReviewsToDate            int       `json:"reviews_to_date"`
	DecidedToDate            int       `json:"decided_to_date"`
	FalsePositives           int       `json:"false_positives"`
	FalsePositiveRate        *float64  `json:"false_positive_rate"`
	MedianDaysFlagToOutreach *float64  `json:"median_days_flag_to_outreach"`
	OutreachWithinWindowRate *float64  `json:"outreach_within_14_days_rate"`
	SavedWithinWindow        SaveSplit `json:"save_within_14_days"` // outreach approved within OutreachWindowDays of the flag
	SavedAfterWindow         SaveSplit `json:"save_after_14_days"`  // approved later

	// Packet completeness of the week's elevated and critical accounts.
	PacketCompletenessRate *float64 `json:"packet_completeness_rate"`
	PacketsAtRisk          int      `json:"packets_at_risk"`
	PacketsComplete        int      `json:"packets_complete"`

	Drill map[string][]string `json:"drill"` // the IDs behind the counts; see the Drill* keys
}

// SaveSplit is the save rate of the reviews with a saved or churned outcome
// whose approved outreach fell on one side of the outreach window.
type SaveSplit struct {
	Rate    *float64 `json:"rate"` // saved / (saved + churned)
	Saved   int      `json:"saved"`
	Churned int      `json:"churned"`
}

// GroupTrend is one owner's or one team's figures. Accounts and ARRAtRisk
// are the last week's; the rest cover the whole window: reviews opened in
// it, decisions dated in it, and the rates of the reviews opened in it as
// of the window's end.
type GroupTrend struct {
	Name                  string   `json:"name"`
	Accounts              int      `json:"accounts"`
	ARRAtRisk             float64  `json:"arr_at_risk"`
	ReviewsOpened         int      `json:"reviews_opened"`
	ReviewsDecided        int      `json:"reviews_decided"`
	MedianHoursToDecision *float64 `json:"median_hours_to_decision"`
	SaveRate              *float64 `json:"save_rate"`
	OutreachWithin14Rate  *float64 `json:"outreach_within_14_days_rate"`
}

// recordKinds are the events reviewRecords reads for the figures shown here;
// the rest (reminders, sends, replies) only feed Build's intervention counts.
var recordKinds = []review.EventKind{review.EventFlagged, review.EventReviewed, review.EventRiskRejected,
	review.EventActionAssigned, review.EventSaved, review.EventChurned, review.EventStillAtRisk, review.EventFalsePositive}

// BuildTrends computes the dashboard. It takes each week's score rows from
// trendRows, reading from the store (two weeks at a time, ahead of their
// use) only the weeks it lacks or that changed, and the packets of every cycle
// through the last week and the events once. Packets of cycles before the
// window are read too: a review opens when an account crosses into risk and
// remains its packet while it stays at risk, so Build counts it in every
// later week's completeness and rates.
func BuildTrends(ctx context.Context, st store.Store, q TrendQuery) (Trends, error) {
	weeks, err := trendWeeks(ctx, st, q)
	if err != nil {
		return Trends{}, fmt.Errorf("trends: %w", err)
	}
	last := weeks[len(weeks)-1]
	nextWeek, stop := readAhead(ctx, weeks, 2, func(ctx context.Context, w string) (*packedWeek, error) {
		return trendRows.load(ctx, st, w)
	})
	defer stop()
	packets, err := st.Packets(ctx, store.PacketFilter{Through: last})
	if err != nil {
		return Trends{}, fmt.Errorf("trends through %s: %w", last, err)
	}
	events, err := st.Events(ctx, store.EventFilter{Kinds: recordKinds})
	if err != nil {
		return Trends{}, fmt.Errorf("trends through %s: %w", last, err)
	}
	run := newTrendRun(q, weeks, packets, events)
	t := Trends{Through: last, Weeks: make([]WeekTrend, 0, len(weeks))}
	var rows []store.ScoreRow
	var recs []*record
	for _, w := range weeks {
		pw, err := nextWeek()
		if err != nil {
			return Trends{}, fmt.Errorf("trends: %w", err)
		}
		rows = run.ownRows(pw)
		var wt WeekTrend
		if wt, recs, err = run.week(w, rows); err != nil {
			return Trends{}, fmt.Errorf("trends: %w", err)
		}
		t.Weeks = append(t.Weeks, wt)
	}
	t.ByOwner = run.groups(rows, recs, func(owner string) string { return owner })
	teamOf := q.TeamOf
	if teamOf == nil {
		teamOf = func(string) string { return "" }
	}
	t.ByTeam = run.groups(rows, recs, teamOf)
	return t, nil
}

// trendWeeks picks the window's scored weeks, oldest first.
func trendWeeks(ctx context.Context, st store.Store, q TrendQuery) ([]string, error) {
	n := q.Weeks
	switch {
	case n == 0:
		n = DefaultTrendWeeks
	case n < 0 || n > MaxTrendWeeks:
		return nil, fmt.Errorf("weeks = %d: want 1 to %d", q.Weeks, MaxTrendWeeks)
	}
	through, _, err := resolveWeek(ctx, st, q.Through)
	if err != nil {
		return nil, err
	}
	weeks, err := st.Weeks(ctx)
	if err != nil {
		return nil, err
	}
	i, _ := slices.BinarySearch(weeks, through) // resolveWeek found it
	return weeks[max(0, i+1-n) : i+1], nil
}

// readAhead loads the weeks' score rows in order, up to n loads ahead of
// their use: a week read from the store is most of a cold dashboard's cost,
// and both SQLite (WAL) and PostgreSQL serve readers on separate
// connections in parallel. stop ends the loads not yet used.
func readAhead(ctx context.Context, weeks []string, n int,
	load func(context.Context, string) (*packedWeek, error)) (next func() (*packedWeek, error), stop func()) {
	ctx, stop = context.WithCancel(ctx)
	type result struct {
		week *packedWeek
		err  error
	}
	out := make([]chan result, len(weeks))
	for i := range out {
		out[i] = make(chan result, 1) // a read finishes even when nobody takes it
	}
	slots := make(chan struct{}, n)
	go func() {
		for i, w := range weeks {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			go func() {
				pw, err := load(ctx, w)
				out[i] <- result{pw, err}
			}()
		}
	}()
	i := 0
	next = func() (*packedWeek, error) {
		select {
		case r := <-out[i]:
			i++
			<-slots
			return r.week, r.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return next, stop
}

// trendRun holds what every week reads, and scratch reused week to week.
type trendRun struct {
	weeks    []string
	packets  []review.Packet // every cycle through the last week, by cycle
	events   []review.Event
	owners   map[string]bool       // nil = everybody
	packetOf map[string]packetMeta // by review ID
	// accountOwner is the latest scored owner of the accounts of reviews
	// known only from events: their owner is their account's.
	accountOwner map[string]string

	rows   []store.ScoreRow // the week's, of the owners asked for
	asOf   []review.Packet
	evs    []review.Event
	atRisk []risk.Assessment
}

func newTrendRun(q TrendQuery, weeks []string, packets []review.Packet, events []review.Event) *trendRun {
	r := &trendRun{weeks: weeks, packets: packets, events: events,
		packetOf: make(map[string]packetMeta, len(packets)), accountOwner: map[string]string{}}
	if q.Owners != nil {
		r.owners = make(map[string]bool, len(q.Owners))
		for _, o := range q.Owners {
			r.owners[o] = true
		}
	}
	for _, p := range packets {
		r.packetOf[p.ReviewID] = packetMeta{owner: p.Owner, cycle: p.Cycle}
	}
	for _, e := range events {
		if _, ok := r.packetOf[e.ReviewID]; !ok && e.ReviewID != "" {
			r.accountOwner[accountOf(e.ReviewID)] = ""
		}
	}
	return r
}

type packetMeta struct{ owner, cycle string }

func (r *trendRun) allowed(owner string) bool { return r.owners == nil || r.owners[owner] }

// reviewOwner is the packet's owner, or for a review known only from events
// its account's latest scored owner ("" when never scored).
func (r *trendRun) reviewOwner(reviewID string) string {
	if m, ok := r.packetOf[reviewID]; ok {
		return m.owner
	}
	return r.accountOwner[accountOf(reviewID)]
}

// reviewCycle is the packet's cycle, or the one in the ID of a review known
// only from events.
func (r *trendRun) reviewCycle(reviewID string) string {
	if m, ok := r.packetOf[reviewID]; ok {
		return m.cycle
	}
	return cycleOf(reviewID)
}

// ownRows unpacks the week's rows of the owners asked for (into r.rows,
// which the next week reuses), noting on the way the owners of the accounts
// of event-only reviews.
func (r *trendRun) ownRows(pw *packedWeek) []store.ScoreRow {
	keep := make([]bool, len(pw.names)) // by name: an owner asked for
	for i, name := range pw.names {
		keep[i] = r.allowed(name)
	}
	r.rows = slices.Grow(r.rows[:0], len(pw.rows))
	for i, p := range pw.rows {
		if !keep[p.owner] && len(r.accountOwner) == 0 {
			continue
		}
		row := pw.row(i)
		if _, ok := r.accountOwner[row.AccountID]; ok {
			r.accountOwner[row.AccountID] = row.Owner
		}
		if keep[p.owner] {
			r.rows = append(r.rows, row)
		}
	}
	return r.rows
}

// accountOf reads the account from a review ID made by review.ID.
func accountOf(reviewID string) string {
	rest := strings.TrimPrefix(reviewID, "review/")
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		return rest[:i]
	}
	return rest
}

// week computes one WeekTrend from the week's (owner-filtered) score rows,
// and returns the review records as of the week's end.
func (r *trendRun) week(w string, rows []store.ScoreRow) (WeekTrend, []*record, error) {
	start, err := time.Parse(time.DateOnly, w)
	if err != nil {
		return WeekTrend{}, nil, fmt.Errorf("scored week %q: %w", w, err)
	}
	end := start.AddDate(0, 0, 7)
	wt := WeekTrend{Week: w, Accounts: len(rows), Drill: make(map[string][]string, len(drillKeys))}
	for _, k := range drillKeys {
		wt.Drill[k] = []string{}
	}
	wt.Tiers, wt.ARRByTier = tally(rows)
	wt.ARRAtRisk = wt.ARRByTier.Critical + wt.ARRByTier.Elevated

	r.flow(&wt, start, end)
	r.snapshot(w, end)
	recs := reviewRecords(w, r.asOf, r.evs)
	if r.owners != nil {
		recs = slices.DeleteFunc(recs, func(rec *record) bool { return !r.allowed(r.reviewOwner(rec.reviewID)) })
	}
	toDate(&wt, recs)
	// The current week is judged as it stands now, not at its future end.
	at := end
	if now := time.Now(); now.Before(at) {
		at = now
	}
	r.completeness(&wt, rows, at)
	for _, ids := range wt.Drill {
		slices.Sort(ids)
	}
	return wt, recs, nil
}

// flow counts the reviews opened in the week and those decided within it.
func (r *trendRun) flow(wt *WeekTrend, start, end time.Time) {
	var hours []float64
	for _, p := range r.packets {
		if !r.allowed(p.Owner) {
			continue
		}
		if p.Cycle == wt.Week {
			wt.ReviewsOpened++
			wt.Drill[DrillOpened] = append(wt.Drill[DrillOpened], p.ReviewID)
		}
		if h, ok := decidedWithin(p, start, end); ok {
			wt.ReviewsDecided++
			wt.Drill[DrillDecided] = append(wt.Drill[DrillDecided], p.ReviewID)
			if h >= 0 {
				hours = append(hours, h)
			}
		}
	}
	wt.MedianHoursToDecision = median(hours)
}

// decidedWithin says whether p was decided in [start, end), and the hours
// from its creation to the decision (-1 when its creation is not known).
func decidedWithin(p review.Packet, start, end time.Time) (float64, bool) {
	d := p.Decision
	if d == nil || d.At.Before(start) || !d.At.Before(end) {
		return 0, false
	}
	if p.CreatedAt.IsZero() {
		return -1, true
	}
	return max(0, d.At.Sub(p.CreatedAt).Hours()), true // writers' clocks differ; a decision cannot precede its packet
}

// snapshot fills r.asOf with the packets of cycles up to week as they stood
// at end, and r.evs with the events recorded before end.
func (r *trendRun) snapshot(week string, end time.Time) {
	r.asOf = r.asOf[:0]
	for _, p := range r.packets {
		if p.Cycle > week {
			break // packets come ordered by cycle
		}
		r.asOf = append(r.asOf, packetAsOf(p, end))
	}
	r.evs = r.evs[:0]
	for _, e := range r.events {
		if e.At.Before(end) {
			r.evs = append(r.evs, e)
		}
	}
}

// packetAsOf drops what p records from end on: a later decision (with the
// action and follow-up date that come from it) and a later outcome.
func packetAsOf(p review.Packet, end time.Time) review.Packet {
	if p.Decision != nil && !p.Decision.At.Before(end) {
		p.Decision, p.Action, p.FollowUpDate = nil, nil, ""
	}
	if p.Outcome != nil && !p.Outcome.At.Before(end) {
		p.Outcome = nil
	}
	return p
}

// toDate fills the to-date figures with Build's own measure, so that they
// cannot drift from the summary's.
func toDate(wt *WeekTrend, recs []*record) {
	var s Summary
	measure(&s, recs)
	wt.ReviewsToDate = len(recs)
	wt.DecidedToDate = s.Interventions.Decided
	wt.FalsePositiveRate = s.FalsePositiveRate
	wt.MedianDaysFlagToOutreach = s.MedianDaysFlagToOutreach
	wt.OutreachWithinWindowRate = s.OutreachWithinWindowRate
	d := wt.Drill
	for _, rec := range recs {
		// Only these can be a false positive or a saved or churned outcome.
		if !rec.rejected && rec.outcome != review.FalsePositive && rec.outcome != review.Saved && rec.outcome != review.Churned {
			continue
		}
		v := judge(rec)
		if v.falsePositive {
			d[DrillFalsePositive] = append(d[DrillFalsePositive], rec.reviewID)
		}
		switch {
		case rec.outcome == review.Saved && v.within:
			d[DrillSavedWithin] = append(d[DrillSavedWithin], rec.reviewID)
		case rec.outcome == review.Saved && v.later:
			d[DrillSavedLater] = append(d[DrillSavedLater], rec.reviewID)
		case rec.outcome == review.Churned && v.within:
			d[DrillChurnedWithin] = append(d[DrillChurnedWithin], rec.reviewID)
		case rec.outcome == review.Churned && v.later:
			d[DrillChurnedLater] = append(d[DrillChurnedLater], rec.reviewID)
		}
	}
	d[DrillChurned] = append(slices.Clone(d[DrillChurnedWithin]), d[DrillChurnedLater]...)
	wt.FalsePositives = len(d[DrillFalsePositive])
	wt.SavedWithinWindow = saveSplit(len(d[DrillSavedWithin]), len(d[DrillChurnedWithin]))
	wt.SavedAfterWindow = saveSplit(len(d[DrillSavedLater]), len(d[DrillChurnedLater]))
}

func saveSplit(saved, churned int) SaveSplit {
	return SaveSplit{Rate: ratio(saved, saved+churned), Saved: saved, Churned: churned}
}

// verdict is what Build's measure makes of one review on its own.
type verdict struct {
	falsePositive bool
	within, later bool // approved outreach within the window, or after it; neither when unknown
}

// judge runs measure on a single record: the drill-down lists then follow
// exactly the rules the rates use, with no second copy of them here.
func judge(rec *record) verdict {
	var s Summary
	measure(&s, []*record{rec})
	v := verdict{falsePositive: s.FalsePositiveRate != nil && *s.FalsePositiveRate == 1}
	if w := s.OutreachWithinWindowRate; w != nil {
		v.within, v.later = *w == 1, *w == 0
	}
	return v
}

// completeness is Build's packet completeness for the week's at-risk rows,
// each account's packet being its latest cycle's as it stood at the week's end.
func (r *trendRun) completeness(wt *WeekTrend, rows []store.ScoreRow, at time.Time) {
	r.atRisk = r.atRisk[:0]
	for _, row := range rows {
		if row.Tier.AtRisk() {
			r.atRisk = append(r.atRisk, risk.Assessment{AccountID: row.AccountID, Owner: row.Owner, Tier: row.Tier, ARR: row.ARR})
		}
	}
	c := completeness(r.atRisk, latestPacketByAccount(r.asOf), at)
	wt.PacketCompletenessRate, wt.PacketsAtRisk, wt.PacketsComplete = c.Rate, c.AtRisk, c.Complete
	for _, ip := range c.Incomplete {
		if ip.ReviewID == "" {
			wt.Drill[DrillNoReview] = append(wt.Drill[DrillNoReview], ip.AccountID)
		} else {
			wt.Drill[DrillIncomplete] = append(wt.Drill[DrillIncomplete], ip.ReviewID)
		}
	}
}

// groupAcc gathers one group's figures before its medians and rates.
type groupAcc struct {
	g     GroupTrend
	hours []float64
	recs  []*record
}

// groups computes the window's figures per key(owner), from the last week's
// rows and records (as of the window's end), ARR at risk descending.
func (r *trendRun) groups(rows []store.ScoreRow, recs []*record, key func(owner string) string) []GroupTrend {
	by := map[string]*groupAcc{}
	get := func(owner string) *groupAcc {
		k := key(owner)
		a, ok := by[k]
		if !ok {
			a = &groupAcc{g: GroupTrend{Name: k}}
			by[k] = a
		}
		return a
	}
	for _, row := range rows {
		a := get(row.Owner)
		a.g.Accounts++
		if row.Tier.AtRisk() {
			a.g.ARRAtRisk += row.ARR
		}
	}
	first, last := r.weeks[0], r.weeks[len(r.weeks)-1]
	start, _ := time.Parse(time.DateOnly, first) // week parsed every week already
	end, _ := time.Parse(time.DateOnly, last)
	end = end.AddDate(0, 0, 7)
	for _, p := range r.packets {
		if !r.allowed(p.Owner) {
			continue
		}
		if p.Cycle >= first {
			get(p.Owner).g.ReviewsOpened++
		}
		if h, ok := decidedWithin(p, start, end); ok {
			a := get(p.Owner)
			a.g.ReviewsDecided++
			if h >= 0 {
				a.hours = append(a.hours, h)
			}
		}
	}
	for _, rec := range recs {
		if r.reviewCycle(rec.reviewID) >= first {
			a := get(r.reviewOwner(rec.reviewID))
			a.recs = append(a.recs, rec)
		}
	}
	out := make([]GroupTrend, 0, len(by))
	for _, a := range by {
		var s Summary
		measure(&s, a.recs)
		a.g.SaveRate, a.g.OutreachWithin14Rate = s.SaveRate, s.OutreachWithinWindowRate
		a.g.MedianHoursToDecision = median(a.hours)
		out = append(out, a.g)
	}
	slices.SortFunc(out, func(a, b GroupTrend) int {
		if c := cmp.Compare(b.ARRAtRisk, a.ARRAtRisk); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// trendColumns are the CSV's columns, one per figure, header and value
// together so that they cannot drift apart.
var trendColumns = []struct {
	name  string
	value func(w WeekTrend) string
}{
	{"week", func(w WeekTrend) string { return w.Week }},
	{"accounts", func(w WeekTrend) string { return strconv.Itoa(w.Accounts) }},
	{"critical_accounts", func(w WeekTrend) string { return strconv.Itoa(w.Tiers.Critical) }},
	{"elevated_accounts", func(w WeekTrend) string { return strconv.Itoa(w.Tiers.Elevated) }},
	{"watch_accounts", func(w WeekTrend) string { return strconv.Itoa(w.Tiers.Watch) }},
	{"healthy_accounts", func(w WeekTrend) string { return strconv.Itoa(w.Tiers.Healthy) }},
	{"insufficient_evidence_accounts", func(w WeekTrend) string { return strconv.Itoa(w.Tiers.InsufficientEvidence) }},
	{"critical_arr", func(w WeekTrend) string { return num(w.ARRByTier.Critical) }},
	{"elevated_arr", func(w WeekTrend) string { return num(w.ARRByTier.Elevated) }},
	{"watch_arr", func(w WeekTrend) string { return num(w.ARRByTier.Watch) }},
	{"healthy_arr", func(w WeekTrend) string { return num(w.ARRByTier.Healthy) }},
	{"insufficient_evidence_arr", func(w WeekTrend) string { return num(w.ARRByTier.InsufficientEvidence) }},
	{"arr_at_risk", func(w WeekTrend) string { return num(w.ARRAtRisk) }},
	{"reviews_opened", func(w WeekTrend) string { return strconv.Itoa(w.ReviewsOpened) }},
	{"reviews_decided", func(w WeekTrend) string { return strconv.Itoa(w.ReviewsDecided) }},
	{"median_hours_to_decision", func(w WeekTrend) string { return optNum(w.MedianHoursToDecision) }},
	{"reviews_to_date", func(w WeekTrend) string { return strconv.Itoa(w.ReviewsToDate) }},
	{"decided_to_date", func(w WeekTrend) string { return strconv.Itoa(w.DecidedToDate) }},
	{"false_positives", func(w WeekTrend) string { return strconv.Itoa(w.FalsePositives) }},
	{"false_positive_rate", func(w WeekTrend) string { return optNum(w.FalsePositiveRate) }},
	{"median_days_flag_to_outreach", func(w WeekTrend) string { return optNum(w.MedianDaysFlagToOutreach) }},
	{"outreach_within_14_days_rate", func(w WeekTrend) string { return optNum(w.OutreachWithinWindowRate) }},
	{"save_rate_within_14_days", func(w WeekTrend) string { return optNum(w.SavedWithinWindow.Rate) }},
	{"saved_within_14_days", func(w WeekTrend) string { return strconv.Itoa(w.SavedWithinWindow.Saved) }},
	{"churned_within_14_days", func(w WeekTrend) string { return strconv.Itoa(w.SavedWithinWindow.Churned) }},
	{"save_rate_after_14_days", func(w WeekTrend) string { return optNum(w.SavedAfterWindow.Rate) }},
	{"saved_after_14_days", func(w WeekTrend) string { return strconv.Itoa(w.SavedAfterWindow.Saved) }},
	{"churned_after_14_days", func(w WeekTrend) string { return strconv.Itoa(w.SavedAfterWindow.Churned) }},
	{"packet_completeness_rate", func(w WeekTrend) string { return optNum(w.PacketCompletenessRate) }},
	{"packets_at_risk", func(w WeekTrend) string { return strconv.Itoa(w.PacketsAtRisk) }},
	{"packets_complete", func(w WeekTrend) string { return strconv.Itoa(w.PacketsComplete) }},
}

// CSV renders one row per week, oldest first, after a header row. An unknown
// figure is an empty cell: unknown is not zero.
func (t Trends) CSV() string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	rec := make([]string, len(trendColumns))
	for i, c := range trendColumns {
		rec[i] = c.name
	}
	w.Write(rec) // a strings.Builder does not fail
	for _, wt := range t.Weeks {
		for i, c := range trendColumns {
			rec[i] = c.value(wt)
		}
		w.Write(rec)
	}
	w.Flush()
	return b.String()
}

func optNum(f *float64) string {
	if f == nil {
		return ""
	}
	return num(*f)
}
