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
	books := simulate.Battery
	if *evalBatteryHuge {
		books = append(slices.Clip(books), simulate.HugeBook)
	}
	for _, b := range books {
		opts := simulate.Options{Accounts: *evalAccounts, Weeks: *evalWeeks, Seed: int64(*evalSeed0 + 100), Start: start, ChurnRate: 0.15}
		b.Opts(&opts)
		rows, churn := simulate.Portfolio(opts)
		res := Run(m, rows, simulate.ChurnMap(churn), Options{})
		info := map[string]simulate.Churn{}
		for _, c := range churn {
			info[c.AccountID] = c
		}
		ceiling := onsetCeilingAt(info, 2)
		t.Logf("%-32s %8d %8d %10.1f %7.3f %9.3f %6.2f %7.3f %7.3f", b.Name, res.Accounts, res.Churners, res.MedianLeadDays, res.Recall30d,
			ceiling, res.Recall30d/max(ceiling, 1e-9), res.Precision, res.FalsePositiveRate)
		switch {
		case res.Churners == 0:
			if res.FalsePositiveRate > 0.03 {
				t.Errorf("%s: %.3f of accounts flagged, target <= 0.03", b.Name, res.FalsePositiveRate)
			}
		default:
			if res.FalsePositiveRate > targetFPR {
				t.Errorf("%s: false-positive rate %.3f, target <= %.2f", b.Name, res.FalsePositiveRate, targetFPR)
			}
			if res.Precision < targetPrecision {
				t.Errorf("%s: precision %.3f, target >= %.2f", b.Name, res.Precision, targetPrecision)
			}
		}
	}
	t.Log(fmt.Sprintf("seeds %d (held out from tuning); targets: precision >= %.2f, false-positive rate <= %.2f, noise-only books <= 0.03",
		*evalSeed0+100, targetPrecision, targetFPR))
}
