package risk

import (
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
)

// Peer-relative usage
//
// A dip every customer has at once (a public holiday, the August break in
// France and Germany, a product-wide outage) says nothing about any one of
// them. When ScorePortfolio scores a whole book it first measures, for each
// trend week, how far the typical account's usage sat from its own normal
// that week: the median, over peers, of the week's value against the
// account's median over the trend weeks. Peers are the accounts sharing the
// customer's language (holidays follow the region), or the whole portfolio
// when fewer than peers.min_accounts share it. A trend then reads each week
// against that expected level instead of against 1: an account down 35%
// when its peers are down 35% is not declining. Only common dips of at least
// peers.min_dip count, so ordinary week-to-week noise in the median leaves
// the account's own numbers untouched. Score, on one account, has no peers
// and reads the raw numbers.

// peerSeries are the usage series adjusted for peers, in trendSpecs order.
const peerSeries = len(trendSpecs)

// peerBuckets resolve a ratio in steps of 1/peerBucketScale up to
// peerBuckets/peerBucketScale; the median is read from the histogram.
const (
	peerBucketScale = 100
	peerBuckets     = 201
)

// peerFactors holds, per peer group, the expected usage level of each trend
// slot (1 = normal).
type peerFactors struct {
	groups map[string]int // language -> group; "" when too few share it
	level  [][maxWindow][peerSeries]float32
}

// factor returns the expected level of series s in trend slot i for an
// account of the given language, or 1.
func (p *peerFactors) factor(lang string, i, s int) float64 {
	if p == nil {
		return 1
	}
	g, ok := p.groups[lang]
	if !ok {
		g = p.groups[""]
	}
	return float64(p.level[g][i][s])
}

type peerHist [maxWindow][peerSeries][peerBuckets]int32

// buildPeerFactors measures the common dip of each trend slot, as of asOf.
func (m *Model) buildPeerFactors(rows []snapshot.Snapshot, order, starts []int32, asOf time.Time) *peerFactors {
	if m.Peers.MinAccounts <= 0 || len(starts) < 2 {
		return nil
	}
	langOf := make([]string, len(starts)-1)
	counts := map[string]int{}
	for g := range langOf {
		last := &rows[order[starts[g+1]-1]]
		langOf[g] = last.Language
		counts[last.Language]++
	}
	p := &peerFactors{groups: map[string]int{"": 0}}
	for lang, n := range counts {
		if lang != "" && n >= m.Peers.MinAccounts {
			p.groups[lang] = len(p.groups)
		}
	}
	hists := make([]peerHist, len(p.groups))
	n := make([][maxWindow][peerSeries]int32, len(p.groups))
	sc := new(scorer)
	for g := range langOf {
		*sc = scorer{}
		sc.init(m, rows, order[starts[g]:starts[g+1]], asOf)
		if sc.end < 0 {
			continue
		}
		// The account counts in its language's group and in the whole
		// portfolio's.
		targets := [2]int{0, -1}
		if lg, ok := p.groups[langOf[g]]; ok && lg != 0 {
			targets[1] = lg
		}
		for s := range trendSpecs {
			var vals [maxWindow]float64
			var buf [maxWindow]float64
			known := 0
			for i := 0; i < sc.ntslots; i++ {
				v, ok := sc.value(int(sc.tslots[i]), trendSpecs[s].get)
				if !ok {
					vals[i] = -1
					continue
				}
				vals[i] = v
				buf[known] = v
				known++
			}
			if known < sc.m.Windows.MinBaselineWeeks {
				continue
			}
			ref := median(buf[:known])
			if ref <= 0 || (!trendSpecs[s].fraction && ref < m.Windows.MinBaselineCount) {
				continue
			}
			for i := 0; i < sc.ntslots; i++ {
				if vals[i] < 0 {
					continue
				}
				b := min(int(vals[i]/ref*peerBucketScale+0.5), peerBuckets-1)
				for _, t := range targets {
					if t >= 0 {
						hists[t][i][s][b]++
						n[t][i][s]++
					}
				}
			}
		}
	}
	p.level = make([][maxWindow][peerSeries]float32, len(p.groups))
	for g := range p.level {
		for i := range p.level[g] {
			for s := 0; s < peerSeries; s++ {
				p.level[g][i][s] = 1
				if n[g][i][s] < int32(m.Peers.MinAccounts) {
					continue
				}
				// The median bucket.
				half, acc := (n[g][i][s]+1)/2, int32(0)
				for b, c := range hists[g][i][s] {
					acc += c
					if acc >= half {
						if f := float64(b) / peerBucketScale; f <= 1-m.Peers.MinDip && f > 0 {
							p.level[g][i][s] = float32(f)
						}
						break
					}
				}
			}
		}
	}
	return p
}
