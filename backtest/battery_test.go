package backtest

import (
	"flag"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/simulate"
)

var (
	evalBattery     = flag.Bool("eval.battery", false, "with -eval: replay the model over a battery of books unlike the tuning book (slow)")
	evalBatteryHuge = flag.Bool("eval.battery.100k", false, "with -eval -eval.battery: add a book of 100,000 accounts (about 5 minutes and 13 GB)")
)

// batteryBook is one book of the battery: how it differs from the tuning
// book (400 accounts x 52 weeks from June, onsets of 4 to 16 weeks).
type batteryBook struct {
	name string
	opts func(*simulate.Options)
}

// battery lists books that differ from the tuning book in onset, noise,
// seasonality, size, mix of failure modes and columns. Each runs with
// seeds the model was not tuned on (-eval.seed0 moves them).
var battery = []batteryBook{
	{"tuning-like", func(*simulate.Options) {}},
	{"onset 8-20 weeks", func(o *simulate.Options) { o.OnsetWeeks = [2]int{8, 20} }},
	{"onset 2-8 weeks", func(o *simulate.Options) { o.OnsetWeeks = [2]int{2, 8} }},
	{"noisy: 8% blanks, traps on 80%", func(o *simulate.Options) { o.MissingRate, o.TrapRate = 0.08, 0.8 }},
	{"seasonal: dips that recover", func(o *simulate.Options) {
		o.TrapRate, o.TrapKinds = 0.7, []simulate.Trap{simulate.SeasonalDip, simulate.BadWeek, simulate.GoalWobble, simulate.UsageFeedGap}
	}},
	{"commercial traps", func(o *simulate.Options) {
		o.TrapRate, o.TrapKinds = 0.7, []simulate.Trap{simulate.SlowPayer, simulate.RightSizing, simulate.Detractor, simulate.ChampionReplaced}
	}},
	{"year from January", func(o *simulate.Options) { o.Start = time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC) }},
	{"quiet churners 30%", func(o *simulate.Options) { o.QuietRate = 0.3 }},
	{"small: 50 accounts", func(o *simulate.Options) { o.Accounts = 50 }},
	{"large: 4000 accounts", func(o *simulate.Options) { o.Accounts = 4000 }},
	{"optional columns", func(o *simulate.Options) { o.Extended = true }},
	{"noise only: no churner", func(o *simulate.Options) { o.ChurnRate, o.TrapRate = 1e-9, 0.6 }},
	// Two years: the second reads the same weeks of the first (seasonal
	// allowance), the shared holidays twice.
	{"two years, from June", func(o *simulate.Options) { o.Weeks = 104 }},
}

// hugeBook is the battery's book of 100,000 accounts, run with
// -eval.battery.100k.
var hugeBook = batteryBook{"huge: 100k accounts", func(o *simulate.Options) { o.Accounts = 100000 }}

// TestEvaluationBattery replays the default model over every book of the
// battery and reports each one's figures:
//
//	go test ./backtest -run TestEvaluationBattery -v -eval -eval.battery
//
// It fails when a book misses the precision or false-alarm targets, or a
// book without churners flags more than 3% of its accounts. Lead and
// recall are reported beside the recall at 30 days the onsets allow when
// every warning churner is flagged two weeks after its onset (ceiling30),
// and the share of it the model reached.
func TestEvaluationBattery(t *testing.T) {
	if !*evalFlag || !*evalBattery {
		t.Skip("the battery runs with -eval -eval.battery")
	}
	m := risk.DefaultModel()
	start, _ := time.Parse(time.DateOnly, *evalStart)
	t.Logf("%-32s %8s %8s %10s %7s %9s %6s %7s %7s", "book", "accounts", "churners", "lead_days", "rec30", "ceiling30", "share", "prec", "fpr")
	books := battery
	if *evalBatteryHuge {
		books = append(slices.Clip(books), hugeBook)
	}
	for _, b := range books {
		opts := simulate.Options{Accounts: *evalAccounts, Weeks: *evalWeeks, Seed: int64(*evalSeed0 + 100), Start: start, ChurnRate: 0.15}
		b.opts(&opts)
		rows, churn := simulate.Portfolio(opts)
		res := Run(m, rows, simulate.ChurnMap(churn), Options{})
		info := map[string]simulate.Churn{}
		for _, c := range churn {
			info[c.AccountID] = c
		}
		ceiling := onsetCeilingAt(info, 2)
		t.Logf("%-32s %8d %8d %10.1f %7.3f %9.3f %6.2f %7.3f %7.3f", b.name, res.Accounts, res.Churners, res.MedianLeadDays, res.Recall30d,
			ceiling, res.Recall30d/max(ceiling, 1e-9), res.Precision, res.FalsePositiveRate)
		switch {
		case res.Churners == 0:
			if res.FalsePositiveRate > 0.03 {
				t.Errorf("%s: %.3f of accounts flagged, target <= 0.03", b.name, res.FalsePositiveRate)
			}
		default:
			if res.FalsePositiveRate > targetFPR {
				t.Errorf("%s: false-positive rate %.3f, target <= %.2f", b.name, res.FalsePositiveRate, targetFPR)
			}
			if res.Precision < targetPrecision {
				t.Errorf("%s: precision %.3f, target >= %.2f", b.name, res.Precision, targetPrecision)
			}
		}
	}
	t.Log(fmt.Sprintf("seeds %d (held out from tuning); targets: precision >= %.2f, false-positive rate <= %.2f, noise-only books <= 0.03",
		*evalSeed0+100, targetPrecision, targetFPR))
}
