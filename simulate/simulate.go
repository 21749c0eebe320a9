// Package simulate generates realistic, seeded portfolios of weekly account
// snapshots with known churn outcomes, for examples, demos and backtests.
//
// The generator is deliberately not kind to a risk model. Churners decline
// over an onset of 4 to 16 weeks through a mix of patterns (usage decay,
// sponsor silence, support trouble, NPS drop, downgrade, goals off track,
// unpaid invoices, deactivations, a lost champion, failing integrations), and
// some churners give almost no warning at all. Accounts that stay carry the
// traps that cause false alarms in practice: holiday weeks for everyone,
// seasonal dips, one bad week, slow payers, right-sizing downgrades, a
// champion who leaves and is replaced, chronic detractors, a long-open
// low-priority ticket, a sponsor who only meets quarterly, a broken usage
// feed. Fields are sometimes unknown (empty), as in real exports.
//
// The same Options always produce the same rows.
package simulate

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
)

// Options shapes a generated portfolio. Zero fields take the defaults noted.
type Options struct {
	Accounts  int       // number of accounts (default 50)
	Weeks     int       // weeks of history (default 12)
	Start     time.Time // any day in the first week (default 2026-01-05)
	Seed      int64     // same seed, same portfolio
	ChurnRate float64   // share of accounts that churn inside the window (default 0.15)
	QuietRate float64   // share of churners that give little warning (default 0.1)
	// OnsetWeeks bounds how many weeks before churning a (not quiet)
	// churner's decline begins, drawn uniformly (default 4 to 16). It caps
	// what any detector can reach: a churner whose onset is 5 weeks before
	// it leaves cannot be flagged 30 days ahead unless at its first sign.
	OnsetWeeks [2]int
	TrapRate   float64  // share of staying accounts given a false-alarm trap (default 0.4)
	TrapKinds  []Trap   // the traps drawn from (default every kind)
	Owners     []string // CSM handles (default dana, li.wei, marco, priya, sam.okafor)
	// MissingRate is the chance that a known optional cell is exported empty
	// anyway (default 0.02; negative for none).
	MissingRate float64
	// Extended adds the optional columns of model 1.4 (tickets_opened,
	// last_login_date, nps_survey_sent, meetings_missed) and reports nps
	// only in the week of an answer, as a survey tool exports it. Every
	// other value is the one the same options give without it.
	Extended bool
}

func (o Options) withDefaults() Options {
	if o.Accounts <= 0 {
		o.Accounts = 50
	}
	if o.Weeks <= 0 {
		o.Weeks = 12
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	}
	o.Start = snapshot.Monday(o.Start)
	if o.ChurnRate == 0 {
		o.ChurnRate = 0.15
	}
	if o.QuietRate == 0 {
		o.QuietRate = 0.1
	}
	if o.OnsetWeeks == [2]int{} {
		o.OnsetWeeks = [2]int{4, 16}
	}
	if o.TrapRate == 0 {
		o.TrapRate = 0.4
	}
	if len(o.Owners) == 0 {
		o.Owners = defaultOwners
	}
	if o.MissingRate == 0 {
		o.MissingRate = 0.02
	}
	if o.MissingRate < 0 {
		o.MissingRate = 0
	}
	return o
}

// WeekList returns the Mondays the options cover, oldest first.
func (o Options) WeekList() []time.Time {
	o = o.withDefaults()
	weeks := make([]time.Time, o.Weeks)
	for i := range weeks {
		weeks[i] = o.Start.AddDate(0, 0, 7*i)
	}
	return weeks
}

// Churn is a generated account's known outcome.
type Churn struct {
	AccountID string
	Date      time.Time // the day the account left
	Onset     time.Time // Monday of the first week its decline began
	Patterns  []Pattern // how the decline shows in the data
	Quiet     bool      // gave little or no warning
}

// Portfolio generates opts.Accounts accounts over opts.Weeks weeks and returns
// their snapshot rows (sorted by account, then week) and the churners.
func Portfolio(opts Options) (rows []snapshot.Snapshot, churn []Churn) {
	opts = opts.withDefaults()
	return Generate(Accounts(opts), opts)
}

// Generate turns planned accounts into rows. Each account draws from its own
// random stream (seeded by opts.Seed and the account's position), so editing
// one account's plan leaves the others' rows unchanged.
func Generate(accounts []Account, opts Options) (rows []snapshot.Snapshot, churn []Churn) {
	opts = opts.withDefaults()
	weeks := opts.WeekList()
	for i := range accounts {
		a := &accounts[i]
		rng := rand.New(rand.NewPCG(uint64(opts.Seed), uint64(i)*0x9E3779B97F4A7C15+1))
		var ext *extension
		if opts.Extended {
			ext = &extension{rng: rand.New(rand.NewPCG(uint64(opts.Seed)^0xE7E7, uint64(i)*0x9E3779B97F4A7C15+2))}
		}
		rows = append(rows, a.rows(weeks, rng, opts.MissingRate, ext)...)
		if a.Churn != nil {
			churn = append(churn, Churn{
				AccountID: a.ID,
				Date:      a.Churn.Date,
				Onset:     snapshot.Monday(a.Churn.Date).AddDate(0, 0, -7*a.Churn.OnsetWeeks),
				Patterns:  slices.Clone(a.Churn.Patterns),
				Quiet:     a.Churn.Quiet,
			})
		}
	}
	return rows, churn
}

// ChurnMap returns the churn dates keyed by account id, the form the
// backtest takes.
func ChurnMap(churn []Churn) map[string]time.Time {
	m := make(map[string]time.Time, len(churn))
	for _, c := range churn {
		m[c.AccountID] = c.Date
	}
	return m
}

// WriteChurnCSV writes churn outcomes as CSV: account_id, churn_date (the two
// columns the backtest reads) and, for people reading the file, onset_date,
// patterns (semicolon-separated) and quiet.
func WriteChurnCSV(w io.Writer, churn []Churn) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"account_id", "churn_date", "onset_date", "patterns", "quiet"}); err != nil {
		return err
	}
	for _, c := range churn {
		pats := make([]string, len(c.Patterns))
		for i, p := range c.Patterns {
			pats[i] = string(p)
		}
		rec := []string{c.AccountID, c.Date.Format(time.DateOnly), c.Onset.Format(time.DateOnly),
			strings.Join(pats, ";"), fmt.Sprint(c.Quiet)}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// poisson draws from a Poisson distribution (Knuth; fine for the small
// rates used here).
func poisson(rng *rand.Rand, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 {
		return max(0, int(math.Round(lambda+math.Sqrt(lambda)*rng.NormFloat64())))
	}
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// jitter returns a multiplicative noise factor around 1.
func jitter(rng *rand.Rand, sigma float64) float64 {
	return math.Exp(sigma*rng.NormFloat64() - sigma*sigma/2)
}

func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }

func round2(x float64) float64 { return math.Round(x*100) / 100 }
