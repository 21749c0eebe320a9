package risk

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
)

// RankedBook is a book scored and ranked without its assessments: the
// ranking, and what it takes to score any account again the same way (the
// peers of the scored week). A large book's report is written from it one
// account at a time, in rank order, so that `starter score` holds the
// book's rows and its ranking, not a hundred thousand assessments.
type RankedBook struct {
	m       Model
	b       *book
	peers   *peerFactors
	asOf    time.Time
	asOfDay int64
	ranked  []int32 // account numbers, most urgent first
}

// RankTable scores every account of t as of asOf (zero: the latest week in
// t) and ranks them as ScoreTable does. It keeps no assessment: keep, when
// not nil, is called with each account's, from several goroutines at once
// and with the account's number (0 to t.Accounts()-1), to take what the
// caller needs. Accounts not yet customers in the scored week are left out,
// as ScoreTable leaves them out.
func (m Model) RankTable(t *snapshot.Table, asOf time.Time, keep func(account int, a *Assessment)) *RankedBook {
	if asOf.IsZero() {
		asOf = tableLatestWeek(t)
	}
	b := tableBook(t)
	r := &RankedBook{m: m, b: b, asOf: asOf, asOfDay: dayNumber(snapshot.Monday(asOf))}
	r.peers = m.buildPeerFactors(b, asOf)
	keys := make([]rankKey, b.accounts())
	inParallel(len(keys), func() func(lo, hi int) {
		var buf []snapshot.Snapshot
		return func(lo, hi int) {
			for g := lo; g < hi; g++ {
				a := r.assess(g, &buf)
				keys[g] = rankKey{band: a.Tier.Rank(), urgency: a.Urgency, arr: a.ARR, id: a.AccountID, pos: int32(g)}
				if keep != nil {
					keep(g, &a)
				}
			}
		}
	})
	kept := keys[:0]
	for _, k := range keys {
		if b.firstDay(int(k.pos)) <= r.asOfDay {
			kept = append(kept, k)
		}
	}
	keys = sortKeys(kept)
	r.ranked = make([]int32, len(keys))
	for i, k := range keys {
		r.ranked[i] = k.pos
	}
	return r
}

func (r *RankedBook) assess(g int, buf *[]snapshot.Snapshot) Assessment {
	rows, idx := r.b.history(g, buf, r.asOfDay, false)
	return r.m.scoreIndexed(rows, idx, r.peers, r.asOf)
}

// AsOf is the week scored.
func (r *RankedBook) AsOf() time.Time { return r.asOf }

// Len is how many accounts were ranked.
func (r *RankedBook) Len() int { return len(r.ranked) }

// Account is the number of the account ranked i-th, 0 the most urgent.
func (r *RankedBook) Account(i int) int { return int(r.ranked[i]) }

// rankWindow is how many accounts Each scores ahead of the one it hands
// over: enough to keep every core busy, few enough to hold.
const rankWindow = 2048

// Each scores the ranked accounts again, in rank order, and calls fn with
// each, Priority set: the same assessments ScoreTable returns, in the same
// order. fn runs on the calling goroutine; Each stops at its first error
// and returns it.
func (r *RankedBook) Each(fn func(a *Assessment) error) error {
	return r.windows(func(w []Assessment) error {
		for j := range w {
			if err := fn(&w[j]); err != nil {
				return err
			}
		}
		return nil
	})
}

// windows scores the ranked accounts again a window at a time, on every
// core, and hands each window over in rank order, Priority set.
func (r *RankedBook) windows(fn func(w []Assessment) error) error {
	window := make([]Assessment, min(rankWindow, len(r.ranked)))
	for lo := 0; lo < len(r.ranked); lo += len(window) {
		w := window[:min(len(window), len(r.ranked)-lo)]
		inParallel(len(w), func() func(lo, hi int) {
			var buf []snapshot.Snapshot
			return func(from, to int) {
				for j := from; j < to; j++ {
					w[j] = r.assess(int(r.ranked[lo+j]), &buf)
				}
			}
		})
		for j := range w {
			w[j].Priority = lo + j + 1
		}
		if err := fn(w); err != nil {
			return err
		}
	}
	return nil
}

// BookReport is a Report written from a RankedBook: what `starter score`
// prints for a book of any size without holding its assessments. For the
// table it keeps each account's line; the JSON scores each account again
// as it writes it.
type BookReport struct {
	AsOf     string
	Book     *RankedBook
	Rejected []snapshot.Rejection
	Warnings []string
	lines    []tableLine // by account number; nil unless made for the table
}

// NewBookReport ranks the table's accounts as of asOf (zero: the latest
// week) for a report, carrying the batch's rejections and warnings.
// forTable keeps each account's table line as it is scored, so that
// WriteTable need not score again; WriteJSON works either way.
func (m Model) NewBookReport(t *snapshot.Table, b snapshot.Batch, asOf time.Time, forTable bool) *BookReport {
	r := &BookReport{Rejected: b.Rejected, Warnings: b.Warnings}
	var keep func(int, *Assessment)
	if forTable {
		r.lines = make([]tableLine, t.Accounts())
		keep = func(g int, a *Assessment) { r.lines[g] = newTableLine(a) }
	}
	r.Book = m.RankTable(t, asOf, keep)
	if !r.Book.AsOf().IsZero() {
		r.AsOf = snapshot.FormatDate(snapshot.Monday(r.Book.AsOf()))
	}
	if r.Rejected == nil {
		r.Rejected = []snapshot.Rejection{}
	}
	if r.Warnings == nil {
		r.Warnings = []string{}
	}
	return r
}

// WriteTable prints the report as Report.WriteTable does.
func (r *BookReport) WriteTable(w io.Writer) error {
	lines := make([]tableLine, r.Book.Len())
	if r.lines != nil {
		for i := range lines {
			lines[i] = r.lines[r.Book.Account(i)]
		}
	} else if err := r.Book.Each(func(a *Assessment) error {
		lines[a.Priority-1] = newTableLine(a)
		return nil
	}); err != nil {
		return err
	}
	return writeTable(w, r.AsOf, lines, r.Rejected, r.Warnings)
}

// WriteJSON writes the report as Report.WriteJSON does, scoring each
// account again as it goes.
func (r *BookReport) WriteJSON(w io.Writer) error {
	return writeReportJSON(w, r.AsOf, func(bw *bufio.Writer) error {
		bw.WriteString(",\n  \"accounts\": ")
		if r.Book.Len() == 0 {
			bw.WriteString("[]")
			return nil
		}
		return r.Book.writeAccounts(bw)
	}, r.Rejected, r.Warnings)
}

// writeAccounts writes the accounts' JSON array, each window of accounts
// encoded on every core and written in rank order.
func (r *RankedBook) writeAccounts(bw *bufio.Writer) error {
	aw := newJSONArrayWriter[Assessment](bw)
	encoded := make([][]byte, min(rankWindow, r.Len()))
	errs := make([]error, len(encoded))
	err := r.windows(func(w []Assessment) error {
		inParallel(len(w), func() func(lo, hi int) {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			return func(lo, hi int) {
				for j := lo; j < hi; j++ {
					buf.Reset()
					errs[j] = enc.Encode(&w[j])
					encoded[j] = append(encoded[j][:0], buf.Bytes()...)
				}
			}
		})
		for j := range w {
			if errs[j] != nil {
				return fmt.Errorf("account %s: %w", w[j].AccountID, errs[j])
			}
			if err := aw.writeEncoded(encoded[j]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	aw.close()
	return nil
}
