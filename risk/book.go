package risk

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
)

// book is a portfolio's rows grouped by account, whether they are held as
// Snapshots or in a compact snapshot.Table. ScorePortfolio and ScoreTable
// both score through it, so that the two give the same assessments.
type book struct {
	rows   []snapshot.Snapshot // the rows; nil when they are in table
	table  *snapshot.Table
	order  []int32 // row numbers grouped by account, each group sorted by week
	starts []int32 // account g is order[starts[g]:starts[g+1]]
}

func sliceBook(rows []snapshot.Snapshot) *book {
	order, starts := groupIndex(rows)
	return &book{rows: rows, order: order, starts: starts}
}

// tableBook groups a table's rows as groupIndex groups a slice: accounts in
// order of first appearance (the table's account numbers), each account's
// rows sorted by week, stably. The table keeps each account's rows as a
// chain, so accounts are grouped on every core.
func tableBook(t *snapshot.Table) *book {
	starts := make([]int32, t.Accounts()+1)
	for g := range t.Accounts() {
		starts[g+1] = starts[g] + int32(t.AccountLen(g))
	}
	order := make([]int32, t.Len())
	inParallel(t.Accounts(), func() func(lo, hi int) {
		return func(lo, hi int) {
			for g := lo; g < hi; g++ {
				idx := t.AccountRows(g, order[starts[g]:starts[g]:starts[g+1]])
				sorted := true
				for j := 1; j < len(idx); j++ {
					if t.CompareWeeks(int(idx[j]), int(idx[j-1])) < 0 {
						sorted = false
						break
					}
				}
				if !sorted {
					slices.SortStableFunc(idx, func(a, b int32) int { return t.CompareWeeks(int(a), int(b)) })
				}
			}
		}
	})
	return &book{table: t, order: order, starts: starts}
}

func (b *book) accounts() int { return len(b.starts) - 1 }

// history returns account g's rows up to day asOfDay, sorted by week, in
// the form scoreIndexed takes: the slice and the account's indices into it
// (which may run past asOfDay: the scorer stops at it), or, for a table,
// the rows unpacked into *buf (reused from call to call). A replay scores
// a long history as of each of its weeks, so a table unpacks only the rows
// a score as of asOfDay can read. With usageOnly, only what the peer pass
// reads is unpacked (snapshot.Table.RowUsage): every call with the same
// buf must then pass usageOnly, so that no other field is left over.
func (b *book) history(g int, buf *[]snapshot.Snapshot, asOfDay int64, usageOnly bool) ([]snapshot.Snapshot, []int32) {
	idx := b.order[b.starts[g]:b.starts[g+1]]
	if b.table == nil {
		return b.rows, idx
	}
	for len(idx) > 0 && b.table.WeekDay(int(idx[len(idx)-1])) > asOfDay {
		idx = idx[:len(idx)-1]
	}
	h := *buf
	if cap(h) < len(idx) {
		h = make([]snapshot.Snapshot, len(idx), max(len(idx), 2*cap(h)))
	}
	h = h[:len(idx)]
	for j, i := range idx {
		if usageOnly {
			b.table.RowUsage(int(i), &h[j])
		} else {
			b.table.Row(int(i), &h[j])
		}
	}
	*buf = h
	return h, nil
}

// firstWeek returns the week of account g's earliest row.
func (b *book) firstWeek(g int) time.Time {
	i := b.order[b.starts[g]]
	if b.table == nil {
		return b.rows[i].Week
	}
	return b.table.Week(int(i))
}

// firstDay is firstWeek as a day number.
func (b *book) firstDay(g int) int64 {
	i := b.order[b.starts[g]]
	if b.table == nil {
		return dayNumber(b.rows[i].Week)
	}
	return b.table.WeekDay(int(i))
}

// language returns the language of account g's latest row at or before
// day asOfDay, the one a scorer reads (scorer.lang), or of its first row
// when it has none by then.
func (b *book) language(g int, asOfDay int64) string {
	k := b.starts[g+1] - 1
	for k > b.starts[g] && b.day(b.order[k]) > asOfDay {
		k--
	}
	i := b.order[k]
	if b.table == nil {
		return b.rows[i].Language
	}
	return b.table.Language(int(i))
}

// day is row i's week as a day number.
func (b *book) day(i int32) int64 {
	if b.table == nil {
		return dayNumber(b.rows[i].Week)
	}
	return b.table.WeekDay(int(i))
}

// tableLatestWeek is LatestWeek over a table's rows.
func tableLatestWeek(t *snapshot.Table) time.Time {
	latest := -1
	for i := range t.Len() {
		if latest < 0 || t.CompareWeeks(i, latest) > 0 {
			latest = i
		}
	}
	if latest < 0 {
		return time.Time{}
	}
	return t.Week(latest)
}

// score scores every account of the book as of asOf (not zero) and ranks
// them; see ScorePortfolio.
func (m Model) score(b *book, asOf time.Time) []Assessment {
	return m.scoreBook(b, asOf, m.buildPeerFactors(b, asOf))
}

// scoreBook is score with the peers given.
func (m Model) scoreBook(b *book, asOf time.Time, peers *peerFactors) []Assessment {
	out := make([]Assessment, b.accounts())
	asOfDay := dayNumber(snapshot.Monday(asOf))
	// Accounts are independent: score them on every core, each result in
	// its own slot so the output does not depend on scheduling.
	inParallel(len(out), func() func(lo, hi int) {
		var buf []snapshot.Snapshot
		return func(lo, hi int) {
			for g := lo; g < hi; g++ {
				rows, idx := b.history(g, &buf, asOfDay, false)
				out[g] = m.scoreIndexed(rows, idx, peers, asOf)
			}
		}
	})
	// An account whose first row is after the scored week was not yet a
	// customer then: it has nothing to assess and is left out.
	kept := out[:0]
	monday := snapshot.Monday(asOf)
	for g := range out {
		if !b.firstWeek(g).After(monday) {
			kept = append(kept, out[g])
		}
	}
	Rank(kept)
	return kept
}

// inParallel runs the range 0..n in chunks on up to GOMAXPROCS workers.
// newWorker is called once per worker, on the calling goroutine, and gives
// the function that worker runs on each chunk it takes; its state (a
// buffer, an accumulator) is the worker's alone.
func inParallel(n int, newWorker func() func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), max(1, n/256))
	const chunk = 64
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		work := newWorker()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= n {
					return
				}
				work(lo, min(lo+chunk, n))
			}
		}()
	}
	wg.Wait()
}
