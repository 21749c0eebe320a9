package risk

import (
	"cmp"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
)

// ScoreFiles reads snapshot files and scores every account as of asOf (the
// zero time: the latest week in the input). The report is the one
// NewReport(ReadFiles(paths), asOf) gives, but the rows are held in a
// snapshot.Table, a quarter of the memory of a []Snapshot and nothing for
// the garbage collector to scan, which on a portfolio of a million
// account-weeks is most of the cost of reading it.
func (m Model) ScoreFiles(paths []string, asOf time.Time) (Report, error) {
	t, b, err := snapshot.ReadTable(paths)
	if err != nil {
		return Report{}, err
	}
	if asOf.IsZero() {
		asOf = t.LatestWeek()
	}
	// NewReport on the batch without rows fills in everything but the
	// accounts (as of, rejections, warnings) the same way as for a batch
	// with them.
	r := m.NewReport(b, asOf)
	if accounts := m.ScoreTable(t, asOf); len(accounts) > 0 {
		r.Accounts = accounts
	}
	return r, nil
}

// ScoreTable is ScorePortfolio for rows held in a snapshot.Table: each
// account's history, sorted by week, is scored as of asOf (the zero time:
// the latest week in the table), accounts that had no row yet by then are
// left out, and the rest are ranked. Rows may come in any order.
func (m Model) ScoreTable(t *snapshot.Table, asOf time.Time) []Assessment {
	if asOf.IsZero() {
		asOf = t.LatestWeek()
	}
	order, starts := tableGroups(t)
	out := make([]Assessment, len(starts)-1)
	keep := make([]bool, len(out))
	asOfDay := snapshot.Monday(asOf).Unix() / 86400
	// Accounts are independent: score them on every core, in chunks, each
	// result in its own slot so the output does not depend on scheduling.
	// Each worker unpacks one history at a time into its own rows.
	workers := min(runtime.GOMAXPROCS(0), max(1, len(out)/256))
	var next atomic.Int64
	var wg sync.WaitGroup
	const chunk = 64
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var history []snapshot.Snapshot
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= len(out) {
					break
				}
				for g := lo; g < min(lo+chunk, len(out)); g++ {
					idx := order[starts[g]:starts[g+1]]
					history = slices.Grow(history[:0], len(idx))[:len(idx)]
					for j, i := range idx {
						t.Row(int(i), &history[j])
					}
					out[g] = m.ScoreSorted(history, asOf)
					// An account whose first row is after the scored week
					// was not yet a customer then: it has nothing to assess.
					keep[g] = t.WeekDay(int(idx[0])) <= asOfDay
				}
			}
			clear(history) // release the strings the last history held
		}()
	}
	wg.Wait()
	kept := out[:0]
	for g := range out {
		if keep[g] {
			kept = append(kept, out[g])
		}
	}
	Rank(kept)
	return kept
}

// tableGroups returns the table's row numbers grouped by account (in the
// table's account order, which is first appearance), each group sorted by
// week, stably; group g is order[starts[g]:starts[g+1]].
func tableGroups(t *snapshot.Table) (order []int32, starts []int32) {
	starts = make([]int32, t.Accounts()+1)
	for i := range t.Len() {
		starts[t.Account(i)+1]++
	}
	for g := 1; g < len(starts); g++ {
		starts[g] += starts[g-1]
	}
	next := slices.Clone(starts[:len(starts)-1])
	order = make([]int32, t.Len())
	for i := range t.Len() {
		g := t.Account(i)
		order[next[g]] = int32(i)
		next[g]++
	}
	for g := range len(starts) - 1 {
		idx := order[starts[g]:starts[g+1]]
		byWeek := func(a, b int32) int { return cmp.Compare(t.WeekDay(int(a)), t.WeekDay(int(b))) }
		if !slices.IsSortedFunc(idx, byWeek) {
			slices.SortStableFunc(idx, byWeek)
		}
	}
	return order, starts
}
