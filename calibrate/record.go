package calibrate

import (
	"math"
	"time"

	"github.com/churnwatch/churnwatch/backtest"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/snapshot"
)

// sample is one scored account-week of a replay: what the model it was
// recorded with said, and whether the account churned within the horizon
// after it (the label the fit learns).
type sample struct {
	account int32 // index into book.ids
	week    time.Time
	score   int
	tier    risk.Tier
	cols    []int32   // signal columns that scored points
	pts     []float64 // their points
	label   bool
	late    bool // within the lead days before churn: too late to give warning
}

// book is every scored account-week of one replay, in replay order: only
// the weeks backtest scores (after the warm-up, before churning), so the
// fit learns from exactly what is measured.
type book struct {
	dims    map[int32]string // each signal column's dimension, as seen
	ids     []string
	index   map[string]int32
	churner []bool
	samples []sample
	at      map[weekKey]int // sample of an account-week
}

type weekKey struct {
	account int32
	week    int64 // Unix seconds of the week's Monday
}

// record replays m over t, as backtest does, keeping every scored
// account-week. The Result is m's own figures (without first signals).
func record(m risk.Model, cols map[string]int, t *snapshot.Table, churn map[string]time.Time, opts backtest.Options, leadDays int) (backtest.Result, *book) {
	b := &book{index: map[string]int32{}, at: map[weekKey]int{}, dims: map[int32]string{}}
	horizon := time.Duration(opts.HorizonDays) * 24 * time.Hour
	lead := time.Duration(leadDays) * 24 * time.Hour
	f := func(t *snapshot.Table, asOf time.Time, ids []string) []bool {
		scored := m.ScoreTable(t, asOf)
		byID := make(map[string]*risk.Assessment, len(scored))
		for i := range scored {
			byID[scored[i].AccountID] = &scored[i]
		}
		out := make([]bool, len(ids))
		for i, id := range ids {
			a := byID[id]
			if a == nil {
				continue
			}
			out[i] = a.Tier.AtRisk()
			b.add(id, asOf, a, cols, churn, horizon, lead)
		}
		return out
	}
	return backtest.RunFlagger(f, t, churn, opts), b
}

func (b *book) add(id string, week time.Time, a *risk.Assessment, cols map[string]int, churn map[string]time.Time, horizon, lead time.Duration) {
	k, ok := b.index[id]
	if !ok {
		k = int32(len(b.ids))
		b.index[id] = k
		b.ids = append(b.ids, id)
		_, churned := churn[id]
		b.churner = append(b.churner, churned)
	}
	s := sample{account: k, week: week, score: a.Score, tier: a.Tier}
	for _, sig := range a.Signals {
		c, known := cols[sig.ID]
		if !known || sig.Points <= 0 {
			continue // listed without points, or a signal the Model has no rule for
		}
		s.cols = append(s.cols, int32(c))
		b.dims[int32(c)] = sig.Dimension
		s.pts = append(s.pts, float64(sig.Points))
	}
	if d, churned := churn[id]; churned && d.After(week) && d.Sub(week) <= horizon {
		s.label = true
		s.late = d.Sub(week) < lead
	}
	b.at[weekKey{k, week.Unix()}] = len(b.samples)
	b.samples = append(b.samples, s)
}

// chooseThreshold picks the flag threshold on the book's scores: of the
// thresholds at which at most target of the non-churners are ever
// flagged, those that flag the most churners 30 days or more ahead (then
// the most at all), and of those the middle one: as far from the last
// churner caught as from the last account that stayed, rather than
// lowered (or raised) for nothing. above(v) is the smallest threshold v
// does not reach.
func (b *book) chooseThreshold(score func(i int) float64, target float64, above func(float64) float64) float64 {
	type acct struct{ max, early, any float64 } // over all weeks; over the weeks a flag would be credited (30 days ahead, at all)
	none := math.Inf(-1)
	accts := make([]acct, len(b.ids))
	for a := range accts {
		accts[a] = acct{none, none, none}
	}
	for i, s := range b.samples {
		v, a := score(i), &accts[s.account]
		a.max = max(a.max, v)
		if s.label {
			a.any = max(a.any, v)
			if !s.late {
				a.early = max(a.early, v)
			}
		}
	}
	var stayed []float64
	candidates := map[float64]bool{}
	for k, a := range accts {
		if b.churner[k] {
			for _, v := range []float64{a.early, a.any} {
				if v != none {
					candidates[v] = true
				}
			}
		} else if a.max != none {
			stayed = append(stayed, a.max)
			candidates[above(a.max)] = true
		}
	}
	sortDesc(stayed)
	allowed := int(target*float64(len(stayed)) + 1e-9)
	floor := none // thresholds must be above the allowed+1-th highest non-churner
	if allowed < len(stayed) {
		floor = above(stayed[allowed])
	}
	top := 0.0
	for _, a := range accts {
		top = max(top, a.max)
	}
	lo, hi, bestEarly, bestAny := above(top), above(top), -1, -1 // flags nothing, when nothing else qualifies
	for t := range candidates {
		if t < floor {
			continue
		}
		early, anyLead := 0, 0
		for k, a := range accts {
			if b.churner[k] {
				early += b2i(a.early >= t)
				anyLead += b2i(a.any >= t)
			}
		}
		switch {
		case early > bestEarly || early == bestEarly && anyLead > bestAny:
			lo, hi, bestEarly, bestAny = t, t, early, anyLead
		case early == bestEarly && anyLead == bestAny:
			lo, hi = min(lo, t), max(hi, t)
		}
	}
	return (lo + hi) / 2
}

// foldSet gives each account of a book a fold.
type foldSet []int

// folds assigns the book's accounts to k folds by id and seed.
func (b *book) folds(seed int64, k int) foldSet {
	f := make(foldSet, len(b.ids))
	for a, id := range b.ids {
		f[a] = min(int(unit(id, "fold", seed)*float64(k)), k-1)
	}
	return f
}

// split returns the samples outside fold k and those in it, the weeks
// too late to warn left out.
func (f foldSet) split(b *book, k int) (train, test []sample) {
	for _, s := range b.samples {
		if s.late {
			continue
		}
		if f[s.account] == k {
			test = append(test, s)
		} else {
			train = append(train, s)
		}
	}
	return train, test
}

// trainable is the samples the fit learns from: all but the weeks too
// late to warn.
func (b *book) trainable() []sample {
	out := make([]sample, 0, len(b.samples))
	for _, s := range b.samples {
		if !s.late {
			out = append(out, s)
		}
	}
	return out
}
