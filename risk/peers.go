package risk

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
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

// levels returns the expected level of each series in each trend slot for
// an account of the given language, or nil when there are no peers (every
// level is 1).
func (p *peerFactors) levels(lang string) *[maxWindow][peerSeries]float32 {
	if p == nil {
		return nil
	}
	g, ok := p.groups[lang]
	if !ok {
		g = p.groups[""]
	}
	return &p.level[g]
}

type peerHist [maxWindow][peerSeries][peerBuckets]int32

// maxPeerLanguages bounds the language groups one portfolio can make; the
// accounts of any further language count in the whole portfolio only.
const maxPeerLanguages = 32

// peerBuilder gathers, account by account, each trend slot's usage against
// the account's own normal. Several builders can share the work of one
// book and be merged: histograms add up.
type peerBuilder struct {
	m     *Model
	langs map[string]int // language -> histogram; 0 is the whole portfolio. Read only.
	hists []*peerHist    // by group; nil until the group has a value
	n     [][maxWindow][peerSeries]int32
}

func newPeerBuilder(m *Model, langs map[string]int, groups int) *peerBuilder {
	return &peerBuilder{m: m, langs: langs, hists: make([]*peerHist, groups), n: make([][maxWindow][peerSeries]int32, groups)}
}

// add counts one account, initialised in sc.
func (b *peerBuilder) add(sc *scorer) {
	if sc.end < 0 {
		return
	}
	targets := [2]int{0, -1}
	if g, ok := b.langs[sc.lang]; ok && sc.lang != "" {
		targets[1] = g
	}
	w := b.m.Windows
	for s := range trendSpecs {
		var vals, buf [maxWindow]float64
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
		if known < w.MinBaselineWeeks {
			continue
		}
		ref := median(buf[:known])
		if ref <= 0 || (!trendSpecs[s].fraction && ref < w.MinBaselineCount) {
			continue
		}
		for i := 0; i < sc.ntslots; i++ {
			if vals[i] < 0 {
				continue
			}
			k := min(int(vals[i]/ref*peerBucketScale+0.5), peerBuckets-1)
			for _, t := range targets {
				if t >= 0 {
					if b.hists[t] == nil {
						b.hists[t] = new(peerHist)
					}
					b.hists[t][i][s][k]++
					b.n[t][i][s]++
				}
			}
		}
	}
}

// grow makes room for groups groups.
func (b *peerBuilder) grow(groups int) {
	for len(b.hists) < groups {
		b.hists = append(b.hists, nil)
		b.n = append(b.n, [maxWindow][peerSeries]int32{})
	}
}

// merge adds o's counts into b.
func (b *peerBuilder) merge(o *peerBuilder) {
	b.grow(len(o.hists))
	for g, h := range o.hists {
		if h == nil {
			continue
		}
		if b.hists[g] == nil {
			b.hists[g] = new(peerHist)
		}
		dst := b.hists[g]
		for i := range h {
			for s := range h[i] {
				for k, c := range h[i][s] {
					dst[i][s][k] += c
				}
				b.n[g][i][s] += o.n[g][i][s]
			}
		}
	}
}

// factors reads each group's median level per trend slot; counts are the
// accounts per group.
func (b *peerBuilder) factors(counts []int) *peerFactors {
	p := &peerFactors{groups: map[string]int{"": 0}, level: make([][maxWindow][peerSeries]float32, len(counts))}
	for lang, g := range b.langs {
		if counts[g] >= b.m.Peers.MinAccounts {
			p.groups[lang] = g
		}
	}
	for g := range p.level {
		for i := range p.level[g] {
			for s := 0; s < peerSeries; s++ {
				p.level[g][i][s] = 1
				n := b.n[g][i][s]
				if n < int32(b.m.Peers.MinAccounts) || b.hists[g] == nil {
					continue
				}
				half, acc := (n+1)/2, int32(0)
				for k, c := range b.hists[g][i][s] {
					acc += c
					if acc >= half {
						if f := float64(k) / peerBucketScale; f <= 1-b.m.Peers.MinDip && f > 0 {
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

// buildPeerFactors measures the common dip of each trend slot, as of asOf,
// over the accounts of the book.
func (m *Model) buildPeerFactors(b *book, asOf time.Time) *peerFactors {
	if m.Peers.MinAccounts <= 0 {
		return nil
	}
	c := m.NewPeerCounter(asOf)
	c.addBook(b)
	return c.factors()
}

// PeerLevels is a book's common dip in each trend week as of one week, by
// language: what ScorePortfolio reads each account's usage against. A scan
// that scores a large book in parts measures it once over the whole book
// (PeerCounter) and hands it to every part (ScoreWithPeers), so each part
// scores as the whole book would. The zero PeerLevels adjusts nothing.
type PeerLevels struct {
	asOf string // the week the levels are for
	f    *peerFactors
}

// peersJSON is how PeerLevels travel between activities: per group, the
// level of each trend slot and series (1 = normal), trailing normal slots
// left out.
type peersJSON struct {
	AsOf   string                  `json:"as_of,omitempty"`
	Groups map[string]int          `json:"groups,omitempty"` // language -> group; "" is the whole book
	Levels [][][peerSeries]float32 `json:"levels,omitempty"`
}

// normalLevel is a trend slot where no series dipped.
var normalLevel = func() (l [peerSeries]float32) {
	for s := range l {
		l[s] = 1
	}
	return l
}()

// MarshalJSON writes the levels.
func (p PeerLevels) MarshalJSON() ([]byte, error) {
	if p.f == nil {
		return []byte("{}"), nil
	}
	out := peersJSON{AsOf: p.asOf, Groups: p.f.groups, Levels: make([][][peerSeries]float32, len(p.f.level))}
	for g := range p.f.level {
		n := maxWindow
		for n > 0 && p.f.level[g][n-1] == normalLevel {
			n--
		}
		out.Levels[g] = p.f.level[g][:n]
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (p *PeerLevels) UnmarshalJSON(data []byte) error {
	var in peersJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	*p = PeerLevels{}
	if len(in.Levels) == 0 {
		return nil
	}
	f := &peerFactors{groups: in.Groups, level: make([][maxWindow][peerSeries]float32, len(in.Levels))}
	for g, slots := range in.Levels {
		if len(slots) > maxWindow {
			return fmt.Errorf("peers: group %d has %d weeks, at most %d", g, len(slots), maxWindow)
		}
		for i := range f.level[g] {
			f.level[g][i] = normalLevel
		}
		copy(f.level[g][:], slots)
	}
	for lang, g := range f.groups {
		if g < 0 || g >= len(f.level) {
			return fmt.Errorf("peers: language %q points at group %d of %d", lang, g, len(f.level))
		}
	}
	if _, ok := f.groups[""]; !ok {
		return errors.New(`peers: no group for the whole book ("")`)
	}
	p.asOf, p.f = in.AsOf, f
	return nil
}

// ScoreWithPeers is ScorePortfolio for part of a book, reading usage
// against the whole book's PeerLevels instead of the part's own. asOf must
// be in the week the peers were measured for.
func (m Model) ScoreWithPeers(rows []snapshot.Snapshot, asOf time.Time, p PeerLevels) ([]Assessment, error) {
	if p.f != nil && p.asOf != snapshot.FormatDate(snapshot.Monday(asOf)) {
		return nil, fmt.Errorf("peers were measured as of %s, not %s", p.asOf, snapshot.FormatDate(snapshot.Monday(asOf)))
	}
	return m.scoreBook(sliceBook(rows), asOf, p.f), nil
}

// PeerCounter measures the PeerLevels of a book given part by part: Add
// each account's whole history once. Over the same accounts it measures
// what ScorePortfolio measures; the order of the parts decides only which
// languages get a group of their own once more than 32 are spoken.
type PeerCounter struct {
	m      *Model
	asOf   time.Time
	langs  map[string]int // language -> group, in order of first appearance
	counts []int          // accounts per group; 0 is the whole book
	total  *peerBuilder
}

// NewPeerCounter starts measuring peers as of the week holding asOf.
func (m Model) NewPeerCounter(asOf time.Time) *PeerCounter {
	return &PeerCounter{m: &m, asOf: asOf, langs: map[string]int{}, counts: []int{0}}
}

// Add counts the accounts in rows, every row of each up to the week
// measured (later rows are ignored).
func (c *PeerCounter) Add(rows []snapshot.Snapshot) { c.addBook(sliceBook(rows)) }

// Levels returns the peer levels of the accounts added so far.
func (c *PeerCounter) Levels() PeerLevels {
	return PeerLevels{asOf: snapshot.FormatDate(snapshot.Monday(c.asOf)), f: c.factors()}
}

func (c *PeerCounter) factors() *peerFactors {
	if c.m.Peers.MinAccounts <= 0 {
		return nil
	}
	if c.total == nil {
		c.total = newPeerBuilder(c.m, c.langs, len(c.counts))
	}
	c.total.grow(len(c.counts))
	return c.total.factors(c.counts)
}

func (c *PeerCounter) addBook(b *book) {
	if c.m.Peers.MinAccounts <= 0 {
		return
	}
	// Languages get their groups in account order, the first
	// maxPeerLanguages of them, counting only accounts with a row at or
	// before the scored week (the ones add reads), so that the groups do
	// not depend on how the work below is shared out.
	asOfDay := dayNumber(snapshot.Monday(c.asOf))
	lastLang, lastGroup := "", -1
	for g := range b.accounts() {
		if b.firstDay(g) > asOfDay {
			continue
		}
		c.counts[0]++
		lang := b.language(g, asOfDay)
		if lang == "" {
			continue
		}
		if lang != lastLang || lastGroup < 0 {
			gi, ok := c.langs[lang]
			if !ok {
				gi = -1
				if len(c.langs) < maxPeerLanguages {
					gi = len(c.counts)
					c.counts = append(c.counts, 0)
					c.langs[lang] = gi
				}
			}
			lastLang, lastGroup = lang, gi
		}
		if lastGroup > 0 {
			c.counts[lastGroup]++
		}
	}

	var mu sync.Mutex
	var builders []*peerBuilder
	inParallel(b.accounts(), func() func(lo, hi int) {
		pb := newPeerBuilder(c.m, c.langs, len(c.counts))
		mu.Lock()
		builders = append(builders, pb)
		mu.Unlock()
		sc := new(scorer)
		var buf []snapshot.Snapshot
		return func(lo, hi int) {
			for g := lo; g < hi; g++ {
				rows, idx := b.history(g, &buf, asOfDay, true)
				*sc = scorer{}
				sc.init(c.m, rows, idx, c.asOf)
				pb.add(sc)
			}
		}
	})
	if c.total == nil {
		c.total = builders[0]
		builders = builders[1:]
	}
	for _, o := range builders {
		c.total.merge(o)
	}
}
