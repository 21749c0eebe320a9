package calibrate

import (
	"math"
	"sort"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
)

// HitRate is how often the accounts a signal (or a tier) was on turned out
// to be at risk, with a Wilson 95% interval.
type HitRate struct {
	Kind   string  `json:"kind"`   // "signal" or "tier"
	ID     string  `json:"id"`     // signal id or tier
	Source string  `json:"source"` // "history" (--churn) or "decisions" (the decision record)
	N      int     `json:"n"`      // accounts (history) or resolved reviews (decisions) it was on
	Hits   int     `json:"hits"`
	Rate   float64 `json:"rate"`
	Low    float64 `json:"low"` // Wilson 95% interval
	High   float64 `json:"high"`
}

// Wilson returns the Wilson score 95% interval of k successes in n trials:
// unlike the normal approximation it stays within [0, 1] and is honest
// about small counts (0 of 3 is not "0%, certain").
func Wilson(k, n int) (low, high float64) {
	if n <= 0 {
		return 0, 1
	}
	const z = 1.959963984540054
	p, nf := float64(k)/float64(n), float64(n)
	denom := 1 + z*z/nf
	center := (p + z*z/(2*nf)) / denom
	half := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / denom
	return max(0, center-half), min(1, center+half)
}

func newHitRate(kind, id, source string, hits, n int) HitRate {
	h := HitRate{Kind: kind, ID: id, Source: source, N: n, Hits: hits}
	if n > 0 {
		h.Rate = round3(float64(hits) / float64(n))
	}
	lo, hi := Wilson(hits, n)
	h.Low, h.High = round3(lo), round3(hi)
	return h
}

// Decision is one resolved review from the decision record, as plain data:
// the tier and the signals (with points) it was raised on, and how it ended.
type Decision struct {
	AccountID string   `json:"account_id"`
	Tier      string   `json:"tier"`
	Signals   []string `json:"signals"`
	// Outcome is saved, churned, still_at_risk or false_positive (the
	// outcome recorded at the follow-up), or rejected (a rejection with
	// its reason, no outcome since).
	Outcome string `json:"outcome"`
}

// Rejected is Decision.Outcome for a review rejected at the gate.
const Rejected = "rejected"

// DecisionOf reads a packet of the decision record; ok is false while it
// is unresolved (no outcome, not rejected).
func DecisionOf(p review.Packet) (Decision, bool) {
	d := Decision{AccountID: p.AccountID, Tier: string(p.Assessment.Tier)}
	if d.Tier == "" {
		d.Tier = string(p.Severity)
	}
	for _, s := range p.Assessment.Signals {
		if s.Points > 0 {
			d.Signals = append(d.Signals, s.ID)
		}
	}
	switch {
	case p.Outcome != nil:
		d.Outcome = string(p.Outcome.Kind)
	case p.Decision != nil && p.Decision.Kind == review.Reject:
		d.Outcome = Rejected
	default:
		return d, false
	}
	return d, true
}

// confirmed says whether a resolved review's account was truly at risk:
// churned and still at risk are; saved is too (a risk that was caught and
// worked); a false positive or a rejection is a miss. Unknown outcomes
// count for neither.
func confirmed(outcome string) (hit, counted bool) {
	switch review.OutcomeKind(outcome) {
	case review.Churned, review.StillAtRisk, review.Saved:
		return true, true
	case review.FalsePositive:
		return false, true
	}
	return false, outcome == Rejected
}

// decisionHitRates counts hits per signal and per tier over resolved
// reviews.
func decisionHitRates(ds []Decision) []HitRate {
	type tally struct{ hits, n int }
	sig, tier := map[string]*tally{}, map[string]*tally{}
	bump := func(m map[string]*tally, id string, hit bool) {
		t := m[id]
		if t == nil {
			t = &tally{}
			m[id] = t
		}
		t.n++
		if hit {
			t.hits++
		}
	}
	for _, d := range ds {
		hit, counted := confirmed(d.Outcome)
		if !counted {
			continue
		}
		bump(tier, d.Tier, hit)
		for _, s := range uniq(d.Signals) {
			bump(sig, s, hit)
		}
	}
	var out []HitRate
	for _, id := range sortedKeys(sig) {
		out = append(out, newHitRate("signal", id, "decisions", sig[id].hits, sig[id].n))
	}
	for _, id := range sortedKeys(tier) {
		out = append(out, newHitRate("tier", id, "decisions", tier[id].hits, tier[id].n))
	}
	return out
}

// historyHitRates counts, over the accounts of the books, how many a
// signal (a tier) was ever on and how many of those it was on within the
// horizon before they churned: the backtest's own definition of a hit.
func historyHitRates(cols []string, books ...*book) []HitRate {
	tiers := []risk.Tier{risk.Critical, risk.Elevated, risk.Watch}
	sigN, sigHits := make([]int, len(cols)), make([]int, len(cols))
	tierN, tierHits := make([]int, len(tiers)), make([]int, len(tiers))
	for _, b := range books {
		on := make([][2]bool, len(b.ids)*(len(cols)+len(tiers))) // per account and column: ever, within the horizon
		width := len(cols) + len(tiers)
		for _, s := range b.samples {
			row := on[int(s.account)*width:]
			for _, c := range s.cols {
				row[c][0] = true
				row[c][1] = row[c][1] || s.label
			}
			for k, t := range tiers {
				if s.tier == t {
					row[len(cols)+k][0] = true
					row[len(cols)+k][1] = row[len(cols)+k][1] || s.label
				}
			}
		}
		for a := range b.ids {
			row := on[a*width:]
			for c := range cols {
				sigN[c] += b2i(row[c][0])
				sigHits[c] += b2i(row[c][1])
			}
			for k := range tiers {
				tierN[k] += b2i(row[len(cols)+k][0])
				tierHits[k] += b2i(row[len(cols)+k][1])
			}
		}
	}
	var out []HitRate
	for c, id := range cols {
		if sigN[c] > 0 {
			out = append(out, newHitRate("signal", id, "history", sigHits[c], sigN[c]))
		}
	}
	for k, t := range tiers {
		out = append(out, newHitRate("tier", string(t), "history", tierHits[k], tierN[k]))
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func uniq(ids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
