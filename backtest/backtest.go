// Package backtest replays a risk model over snapshot history with known
// churn outcomes and measures how early and how precisely it warns.
//
// Definitions (the numbers `starter backtest` prints):
//
//   - A scored week is a week of an account's history, from the account's
//     WarmupWeeks-th week on, inside [From, To]. The model scores it as of
//     that week's Monday from that week and the weeks before it, never
//     later ones.
//   - The account is flagged in a week when the model puts it in elevated or
//     critical (risk.Tier.AtRisk). Insufficient evidence is never a flag.
//   - A churner is an account in the rows whose churn date (from the churn
//     file) falls after its first scored week. Accounts that churned before
//     that are left out (ExcludedChurned): there was nothing to predict.
//   - A churner is flagged (a hit) when it was flagged in a scored week
//     before its churn date and no more than HorizonDays before it. Its lead
//     time is the days from the Monday of the first such week to the churn
//     date. Flags further back than the horizon are not credited.
//   - A non-churner flagged in any scored week is a false alarm.
//   - recall_30d (recall_60d) is the share of churners flagged at least 30
//     (60) days before churning; recall is the share flagged at all.
//   - precision = hits / (hits + false alarms), counted in accounts.
//   - false_positive_rate = false alarms / non-churners, counted in accounts:
//     every false alarm is a review a CSM had to read for nothing.
//   - median_lead_days is the median lead time over the hits.
//
// The same replay runs a naive spreadsheet rule of thumb (Naive) so the
// model's numbers can be read against what a team without it would get.
package backtest

import (
	"slices"
	"sort"
	"time"

	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/snapshot"
)

// Options tunes the replay. Zero fields take the defaults noted.
type Options struct {
	HorizonDays int       // how far ahead of churn a flag is credited (default 180)
	WarmupWeeks int       // weeks of an account's history before its first scored week (default 4)
	From, To    time.Time // scored weeks are within [From, To]; zero = unbounded
}

func (o Options) withDefaults() Options {
	if o.HorizonDays <= 0 {
		o.HorizonDays = 180
	}
	if o.WarmupWeeks <= 0 {
		o.WarmupWeeks = 4
	}
	return o
}

// Metrics is how one flagging rule did over the replay.
type Metrics struct {
	Accounts          int     `json:"accounts"`
	Churners          int     `json:"churners"`
	FlaggedChurners   int     `json:"flagged_churners"`
	MedianLeadDays    float64 `json:"median_lead_days"`
	Recall            float64 `json:"recall"`
	Recall30d         float64 `json:"recall_30d"`
	Recall60d         float64 `json:"recall_60d"`
	Precision         float64 `json:"precision"`
	FalsePositiveRate float64 `json:"false_positive_rate"`
	NonChurners       int     `json:"non_churners"`
	FalseAlarms       int     `json:"false_alarms"`
	// AlertsPerWeek is the mean number of accounts flagged per scored week:
	// the review load the rule puts on the team.
	AlertsPerWeek float64 `json:"alerts_per_week"`
	// FirstSignals counts, per signal (or rule) id, how often it was present
	// in the first flagged week: of hits (churners) and of false alarms.
	FirstSignalsChurners    map[string]int `json:"first_signals_churners"`
	FirstSignalsFalseAlarms map[string]int `json:"first_signals_false_alarms"`
	// FalseAlarmWeeks counts false alarms by the week they first fired:
	// alarms bunched in one week point at a calendar effect (a holiday).
	FalseAlarmWeeks    map[string]int `json:"false_alarm_weeks"`
	MissedChurners     []string       `json:"missed_churners"`
	FalseAlarmAccounts []string       `json:"false_alarm_accounts"`
	// Outcomes has one entry per counted account, for analysis.
	Outcomes []Outcome `json:"-"`
}

// Outcome is how the replay went for one account.
type Outcome struct {
	AccountID string
	Churner   bool
	ChurnDate time.Time // zero for non-churners
	FirstFlag time.Time // a churner's first credited flag, or a non-churner's first flag; zero if none
	LeadDays  float64   // churners flagged: days from FirstFlag to ChurnDate
}

// Result is a backtest of the model, with the naive baseline on the same
// data beside it.
type Result struct {
	Metrics
	From            string  `json:"from"` // first and last scored week
	To              string  `json:"to"`
	ScoredWeeks     int     `json:"scored_weeks"` // distinct weeks scored
	HorizonDays     int     `json:"horizon_days"`
	ExcludedChurned int     `json:"excluded_churned"` // churned before their first scored week
	UnknownChurn    int     `json:"unknown_churn_accounts"`
	ConfigHash      string  `json:"config_hash,omitempty"`
	Baseline        Metrics `json:"baseline"`
	BaselineRule    string  `json:"baseline_rule"`
}

// verdict is what a rule said about one account as of one week.
type verdict struct {
	flagged bool
	signals []string
}

// portfolioRule judges the accounts due this week as of asOf, one verdict
// each, seeing only the rows of t up to asOf (so it may compare an account
// with the rest of the portfolio, never with the future).
type portfolioRule func(t *snapshot.Table, asOf time.Time, due []*account) []verdict

// modelRule scores the whole book as of each week, the way `starter score`
// scores that week's file, peers and all.
func modelRule(m risk.Model) portfolioRule {
	return func(t *snapshot.Table, asOf time.Time, due []*account) []verdict {
		pos := make(map[string]int, len(due))
		for i, a := range due {
			pos[a.id] = i
		}
		out := make([]verdict, len(due))
		for _, a := range m.ScoreTable(t, asOf) {
			i, ok := pos[a.AccountID]
			if !ok {
				continue
			}
			out[i].flagged = a.Tier.AtRisk()
			for _, s := range a.Signals {
				out[i].signals = append(out[i].signals, s.ID)
			}
		}
		return out
	}
}

// naiveRule applies Naive to each due account's last two weeks.
func naiveRule(t *snapshot.Table, _ time.Time, due []*account) []verdict {
	out := make([]verdict, len(due))
	var buf [2]snapshot.Snapshot
	for i, a := range due {
		last := a.rows[max(0, len(a.rows)-2):]
		hist := buf[:len(last)]
		for j, r := range last {
			t.Row(int(r), &hist[j])
		}
		out[i] = Naive(hist)
	}
	return out
}

// Run replays m over rows week by week and measures it against churn
// (account id → churn date), beside the naive baseline; see RunTable.
func Run(m risk.Model, rows []snapshot.Snapshot, churn map[string]time.Time, opts Options) Result {
	return RunTable(m, snapshot.TableOf(rows), churn, opts)
}

// RunTable replays m over the rows of t week by week and measures it
// against churn (account id → churn date), beside the naive baseline. Each
// week is scored the way `starter score` scores it: m.ScoreTable as of that
// week, which reads no later row. A Table holds a long history in a fifth
// of the memory the rows take as Snapshots.
func RunTable(m risk.Model, t *snapshot.Table, churn map[string]time.Time, opts Options) Result {
	res := replay(modelRule(m), t, churn, opts)
	res.Baseline = replay(naiveRule, t, churn, opts).Metrics
	res.BaselineRule = NaiveRule
	res.ConfigHash = m.Hash()
	return res
}

// account is one account's progress through the replay.
type account struct {
	id          string
	rows        []int32 // its rows in t so far, by week
	seen        int     // weeks of history so far
	firstScored time.Time
	isChurner   bool
	churnDate   time.Time
	hit         time.Time // first credited flag of a churner
	hitSignals  []string
	alarm       time.Time // first flag of a non-churner
	alarmSigs   []string
}

// replay measures one rule over the rows of t.
func replay(r portfolioRule, t *snapshot.Table, churn map[string]time.Time, opts Options) Result {
	opts = opts.withDefaults()
	res := Result{HorizonDays: opts.HorizonDays}
	res.FirstSignalsChurners = map[string]int{}
	res.FirstSignalsFalseAlarms = map[string]int{}
	res.FalseAlarmWeeks = map[string]int{}
	res.MissedChurners = []string{}
	res.FalseAlarmAccounts = []string{}
	horizon := time.Duration(opts.HorizonDays) * 24 * time.Hour

	// The rows in week order, rows of one week in the order they were added.
	byWeek := make([]int32, t.Len())
	for i := range byWeek {
		byWeek[i] = int32(i)
	}
	slices.SortStableFunc(byWeek, func(i, j int32) int { return t.CompareWeeks(int(i), int(j)) })
	accounts := make([]*account, t.Accounts()) // by the table's account number
	var order []*account
	flags, scoredWeeks := 0, 0
	var first, last time.Time
	for lo := 0; lo < len(byWeek); {
		day := t.WeekDay(int(byWeek[lo]))
		hi := lo
		for hi < len(byWeek) && t.WeekDay(int(byWeek[hi])) == day {
			hi++
		}
		w := t.Week(int(byWeek[lo]))
		// Accounts with a row this week that are due to be scored.
		var due []*account
		for _, i := range byWeek[lo:hi] {
			a := accounts[t.Account(int(i))]
			if a == nil {
				id := t.AccountID(t.Account(int(i)))
				a = &account{id: id}
				a.churnDate, a.isChurner = churn[id]
				accounts[t.Account(int(i))] = a
				order = append(order, a)
			}
			a.rows = append(a.rows, i)
			a.seen++
			if a.seen < opts.WarmupWeeks || (!opts.From.IsZero() && w.Before(opts.From)) || (!opts.To.IsZero() && w.After(opts.To)) {
				continue
			}
			if a.firstScored.IsZero() {
				a.firstScored = w
			}
			if a.isChurner && !w.Before(a.churnDate) {
				continue // rows after churning say nothing about predicting it
			}
			due = append(due, a)
		}
		if len(due) > 0 {
			scoredWeeks++
			if first.IsZero() {
				first = w
			}
			last = w
			for k, v := range r(t, w, due) {
				if !v.flagged {
					continue
				}
				a := due[k]
				flags++
				switch {
				case a.isChurner && a.churnDate.Sub(w) <= horizon && a.hit.IsZero():
					a.hit, a.hitSignals = w, v.signals
				case !a.isChurner && a.alarm.IsZero():
					a.alarm, a.alarmSigs = w, v.signals
				}
			}
		}
		lo = hi
	}

	var leads []float64
	var lead30, lead60 int
	for _, a := range order {
		if a.firstScored.IsZero() {
			continue // nothing scored: too little history or outside the window
		}
		if a.isChurner && !a.churnDate.After(a.firstScored) {
			res.ExcludedChurned++
			continue
		}
		res.Accounts++
		o := Outcome{AccountID: a.id, Churner: a.isChurner}
		if a.isChurner {
			o.ChurnDate, o.FirstFlag = a.churnDate, a.hit
			if !a.hit.IsZero() {
				o.LeadDays = a.churnDate.Sub(a.hit).Hours() / 24
			}
		} else {
			o.FirstFlag = a.alarm
		}
		res.Outcomes = append(res.Outcomes, o)
		if a.isChurner {
			res.Churners++
			if a.hit.IsZero() {
				res.MissedChurners = append(res.MissedChurners, a.id)
				continue
			}
			res.FlaggedChurners++
			lead := a.churnDate.Sub(a.hit).Hours() / 24
			leads = append(leads, lead)
			if lead >= 30 {
				lead30++
			}
			if lead >= 60 {
				lead60++
			}
			count(res.FirstSignalsChurners, a.hitSignals)
			continue
		}
		res.NonChurners++
		if !a.alarm.IsZero() {
			res.FalseAlarms++
			res.FalseAlarmAccounts = append(res.FalseAlarmAccounts, a.id)
			count(res.FirstSignalsFalseAlarms, a.alarmSigs)
			res.FalseAlarmWeeks[snapshot.FormatDate(a.alarm)]++
		}
	}
	known := make(map[string]bool, len(order))
	for _, a := range order {
		known[a.id] = true
	}
	for id := range churn {
		if !known[id] {
			res.UnknownChurn++
		}
	}
	res.MedianLeadDays = median(leads)
	res.Recall = ratio(res.FlaggedChurners, res.Churners)
	res.Recall30d = ratio(lead30, res.Churners)
	res.Recall60d = ratio(lead60, res.Churners)
	res.Precision = ratio(res.FlaggedChurners, res.FlaggedChurners+res.FalseAlarms)
	res.FalsePositiveRate = ratio(res.FalseAlarms, res.NonChurners)
	res.ScoredWeeks = scoredWeeks
	res.AlertsPerWeek = ratio(flags, scoredWeeks)
	res.From, res.To = snapshot.FormatDate(first), snapshot.FormatDate(last)
	sort.Strings(res.MissedChurners)
	sort.Strings(res.FalseAlarmAccounts)
	return res
}

func count(m map[string]int, ids []string) {
	for _, id := range slices.Compact(slices.Sorted(slices.Values(ids))) {
		m[id]++
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return round3(float64(a) / float64(b))
}

func round3(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
