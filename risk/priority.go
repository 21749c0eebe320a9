package risk

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
)

// urgency ranks accounts within a band: the risk, raised by contract value,
// renewal proximity and strategic weight (see Priority). Renewal proximity
// is urgency only: it never changes the score. An account with
// insufficient evidence counts at least as a watch-level risk, so it is
// ranked with the watch accounts rather than forgotten at the bottom.
func (m Model) urgency(a Assessment, asOfDay int64) float64 {
	p := m.Priority
	risk := float64(a.Score)
	if a.Tier == InsufficientEvidence {
		risk = max(risk, float64(m.Thresholds.Watch))
	}
	arr := 0.0
	if a.ARR > 0 {
		arr = a.ARR / (a.ARR + p.ARRReference)
	}
	renewal := 0.0
	if t, ok := snapshot.ParseDate(a.RenewalDate); ok {
		days := float64(dayNumber(t) - asOfDay)
		switch {
		case days < 0: // a past date is stale data, not proximity
		case days <= float64(p.RenewalNearDays):
			renewal = 1
		case days < float64(p.RenewalHorizonDays):
			renewal = 1 - (days-float64(p.RenewalNearDays))/float64(p.RenewalHorizonDays-p.RenewalNearDays)
		}
	}
	strategic := 0.0
	if a.Strategic {
		strategic = 1
	}
	u := risk * (1 + p.ARRWeight*arr + p.RenewalWeight*renewal + p.StrategicWeight*strategic)
	return math.Round(u*100) / 100
}

// Rank sorts assessments most urgent first and numbers their Priority 1..n:
// by band, then urgency, then ARR, then account id (so ties are stable).
func Rank(as []Assessment) {
	// Sort small keys, not the large Assessment values, then permute once.
	keys := make([]rankKey, len(as))
	for i := range as {
		a := &as[i]
		keys[i] = rankKey{band: a.Tier.Rank(), urgency: a.Urgency, arr: a.ARR, id: a.AccountID, pos: int32(i)}
	}
	keys = sortKeys(keys)
	// Permute in place, cycle by cycle: an Assessment is large, and a
	// book's worth of copies would double the memory of the result.
	for i := range keys {
		if keys[i].pos < 0 {
			continue
		}
		tmp := as[i]
		j := i
		for {
			src := int(keys[j].pos)
			keys[j].pos = -1
			if src == i {
				as[j] = tmp
				break
			}
			as[j] = as[src]
			j = src
		}
	}
	for i := range as {
		as[i].Priority = i + 1
	}
}

// ScorePortfolio scores every account in rows as of the week holding asOf
// (zero: the latest week in rows) and returns them ranked, Priority 1 first.
// rows may be in any order and are not modified. Accounts whose first row
// comes after the scored week are left out; accounts whose rows stopped
// before it are kept (and read as insufficient evidence once their data is
// older than the recent window).
func (m Model) ScorePortfolio(rows []snapshot.Snapshot, asOf time.Time) []Assessment {
	if asOf.IsZero() {
		asOf = LatestWeek(rows)
	}
	return m.score(sliceBook(rows), asOf)
}

// ScoreTable is ScorePortfolio for rows held in a snapshot.Table, in the
// order they were added: it gives the same assessments, while unpacking
// only one account's rows at a time.
func (m Model) ScoreTable(t *snapshot.Table, asOf time.Time) []Assessment {
	if asOf.IsZero() {
		asOf = tableLatestWeek(t)
	}
	return m.score(tableBook(t), asOf)
}

// LatestWeek returns the latest week in rows, or the zero time.
func LatestWeek(rows []snapshot.Snapshot) time.Time {
	var latest time.Time
	for i := range rows {
		if rows[i].Week.After(latest) {
			latest = rows[i].Week
		}
	}
	return latest
}

// GroupByAccount splits rows into one history per account, each sorted by
// week, accounts in order of first appearance. It copies the rows once
// into a single backing array; rows is not modified.
func GroupByAccount(rows []snapshot.Snapshot) [][]snapshot.Snapshot {
	order, starts := groupIndex(rows)
	backing := make([]snapshot.Snapshot, len(order))
	for j, i := range order {
		backing[j] = rows[i]
	}
	groups := make([][]snapshot.Snapshot, len(starts)-1)
	for g := range groups {
		groups[g] = backing[starts[g]:starts[g+1]:starts[g+1]]
	}
	return groups
}

// groupIndex returns row indices grouped by account (first appearance
// order), each group sorted by week (stable), and the group boundaries:
// group g is order[starts[g]:starts[g+1]].
func groupIndex(rows []snapshot.Snapshot) (order []int32, starts []int32) {
	ids := make(map[string]int32, 1024)
	group := make([]int32, len(rows))
	var counts []int32
	lastID, lastG := "", int32(-1)
	for i := range rows {
		id := rows[i].AccountID
		g := lastG
		if g < 0 || id != lastID { // rows mostly come grouped by account
			var ok bool
			g, ok = ids[id]
			if !ok {
				g = int32(len(counts))
				ids[id] = g
				counts = append(counts, 0)
			}
			lastID, lastG = id, g
		}
		group[i] = g
		counts[g]++
	}
	starts = make([]int32, len(counts)+1)
	for g, c := range counts {
		starts[g+1] = starts[g] + c
	}
	next := slices.Clone(starts[:len(counts)])
	order = make([]int32, len(rows))
	for i, g := range group {
		order[next[g]] = int32(i)
		next[g]++
	}
	for g := range counts {
		idx := order[starts[g]:starts[g+1]]
		sorted := true
		for j := 1; j < len(idx); j++ {
			if rows[idx[j]].Week.Before(rows[idx[j-1]].Week) {
				sorted = false
				break
			}
		}
		if !sorted {
			slices.SortStableFunc(idx, func(a, b int32) int { return rows[a].Week.Compare(rows[b].Week) })
		}
	}
	return order, starts
}

type rankKey struct {
	band    int
	urgency float64
	arr     float64
	id      string
	pos     int32
}

// byUrgency orders rank keys. The account id, then the position, break
// every tie: the order is total, so an unstable sort gives what a stable
// one would, faster, and halves sorted apart merge into the same order.
func byUrgency(x, y rankKey) int {
	if d := x.band - y.band; d != 0 {
		return d
	}
	if x.urgency != y.urgency {
		if x.urgency > y.urgency {
			return -1
		}
		return 1
	}
	if x.arr != y.arr {
		if x.arr > y.arr {
			return -1
		}
		return 1
	}
	if d := strings.Compare(x.id, y.id); d != 0 {
		return d
	}
	return cmp.Compare(x.pos, y.pos)
}

// sortKeys sorts keys by urgency, a large book's two halves on two cores,
// and returns them (in keys or in a new slice). Ranking is the last step of
// scoring a book and the only one on one core.
func sortKeys(keys []rankKey) []rankKey {
	if len(keys) < 8192 || runtime.GOMAXPROCS(0) < 2 {
		slices.SortFunc(keys, byUrgency)
		return keys
	}
	lo, hi := keys[:len(keys)/2], keys[len(keys)/2:]
	var wg sync.WaitGroup
	wg.Go(func() { slices.SortFunc(lo, byUrgency) })
	slices.SortFunc(hi, byUrgency)
	wg.Wait()
	out := make([]rankKey, 0, len(keys))
	for len(lo) > 0 && len(hi) > 0 {
		if byUrgency(lo[0], hi[0]) <= 0 {
			out, lo = append(out, lo[0]), lo[1:]
		} else {
			out, hi = append(out, hi[0]), hi[1:]
		}
	}
	return append(append(out, lo...), hi...)
}
