package summary

import (
	"context"
	"sync"

	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/store"
)

// trendCacheRows bounds the score rows the dashboard keeps between requests,
// about 40 bytes each: twenty weeks of a 100,000-account book in ~80 MB. A
// window longer than that still answers, reading the weeks that fell out.
const trendCacheRows = 2_000_000

// trendRows keeps each week's score rows, packed, between dashboard
// requests. Reading them is nearly all of a cold dashboard's cost (100,000
// rows a week through database/sql), yet a past week's rows change only
// when it is rescanned with a new configuration. Every request still asks
// the store for each week's stamp (cheap: see store.ScoreStamp) and reads
// the week again when it moved, so nothing stale is ever shown.
var trendRows = newScoreCache(trendCacheRows)

// scoreCache is a least-recently-used cache of packed weeks, by store and
// week. A packed week never changes once made, so requests share it
// without a lock.
type scoreCache struct {
	limit int

	mu    sync.Mutex
	weeks map[weekKey]*packedWeek
	rows  int    // the packed rows held
	clock uint64 // ticks at every use, for the least recently used
}

type weekKey struct {
	st   store.Store // keeps a closed store alive until its weeks are evicted, so no other store can take its place
	week string
}

// packedWeek is store.ScoreRows of one week in under half the memory: the
// account IDs in one string, owners and tiers as indexes into names.
type packedWeek struct {
	stamp store.ScoreStamp
	ids   string
	names []string
	rows  []packedRow
	used  uint64 // scoreCache.clock at the last use; guarded by its mu
}

type packedRow struct {
	idEnd              int // where the account's ID ends in ids
	owner, tier, score int32
	arr                float64
}

func newScoreCache(limit int) *scoreCache {
	return &scoreCache{limit: limit, weeks: map[weekKey]*packedWeek{}}
}

// load returns the week's rows, from the cache when its stamp has not moved.
// The stamp is read before the rows: rows saved in between make the next
// stamp differ, so they are read again rather than missed.
func (c *scoreCache) load(ctx context.Context, st store.Store, week string) (*packedWeek, error) {
	stamp, err := st.ScoreStamp(ctx, week)
	if err != nil {
		return nil, err
	}
	key := weekKey{st, week}
	c.mu.Lock()
	pw, ok := c.weeks[key]
	if ok && pw.stamp == stamp {
		c.clock++
		pw.used = c.clock
		c.mu.Unlock()
		return pw, nil
	}
	c.mu.Unlock()
	rows, err := st.ScoreRows(ctx, week)
	if err != nil {
		return nil, err
	}
	pw = pack(stamp, rows)
	c.put(key, pw)
	return pw, nil
}

// put keeps pw, evicting the least recently used weeks beyond the limit of
// rows, or of weeks (many tiny ones: the stores of a test binary).
func (c *scoreCache) put(key weekKey, pw *packedWeek) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.weeks[key]; ok {
		c.rows -= len(old.rows)
	}
	c.clock++
	pw.used = c.clock
	c.weeks[key] = pw
	c.rows += len(pw.rows)
	for c.rows > c.limit || len(c.weeks) > 2*MaxTrendWeeks {
		var lru weekKey
		var oldest *packedWeek
		for k, w := range c.weeks { // a few dozen weeks
			if oldest == nil || w.used < oldest.used {
				lru, oldest = k, w
			}
		}
		delete(c.weeks, lru)
		c.rows -= len(oldest.rows)
	}
}

// reset forgets every week: the next requests read the store's rows.
func (c *scoreCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.weeks)
	c.rows = 0
}

// pack keeps rows with the stamp read before them.
func pack(stamp store.ScoreStamp, rows []store.ScoreRow) *packedWeek {
	n := 0
	for _, r := range rows {
		n += len(r.AccountID)
	}
	pw := &packedWeek{stamp: stamp, rows: make([]packedRow, len(rows))}
	index := map[string]int32{}
	name := func(s string) int32 {
		i, ok := index[s]
		if !ok {
			i = int32(len(pw.names))
			index[s] = i
			pw.names = append(pw.names, s)
		}
		return i
	}
	ids := make([]byte, 0, n)
	for i, r := range rows {
		ids = append(ids, r.AccountID...)
		pw.rows[i] = packedRow{idEnd: len(ids), owner: name(r.Owner), tier: name(string(r.Tier)),
			score: int32(r.Score), arr: r.ARR} // scores run from 0 to 100
	}
	pw.ids = string(ids)
	return pw
}

// row unpacks the i-th row.
func (pw *packedWeek) row(i int) store.ScoreRow {
	p, start := pw.rows[i], 0
	if i > 0 {
		start = pw.rows[i-1].idEnd
	}
	return store.ScoreRow{AccountID: pw.ids[start:p.idEnd], Owner: pw.names[p.owner], Tier: risk.Tier(pw.names[p.tier]),
		Score: int(p.score), ARR: p.arr}
}
