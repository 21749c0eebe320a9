package calibrate

import (
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/simulate"
	"github.com/churnwatch/churnwatch/snapshot"
)

// The flags of backtest's evaluation, so the same command line runs both.
var (
	evalFlag     = flag.Bool("eval", false, "run the evaluation on simulated portfolios (slow)")
	evalBattery  = flag.Bool("eval.battery", false, "with -eval: calibrate on every book of the battery")
	evalAccounts = flag.Int("eval.accounts", 400, "accounts per simulated portfolio")
	evalWeeks    = flag.Int("eval.weeks", 52, "weeks per simulated portfolio")
	evalSeed0    = flag.Int("eval.seed0", 1, "first seed; the battery's books use seed0+100")
	evalHoldout  = flag.Float64("eval.holdout", 0.3, "share of each book's accounts held back")
	evalBook     = flag.String("eval.book", "", "calibrate only the books whose name contains this")
)

// TestCalibrationBattery calibrates the default model on every book of
// the battery and logs, on each book's held-back accounts, the current
// model, the calibrated one and the gradient-boosted baseline:
//
//	go test ./calibrate -run TestCalibrationBattery -v -eval -eval.battery
//
// It fails only when a calibration fails or proposes a model that does not
// validate (a book without churners cannot be calibrated and is skipped):
// whether the refit helps is for the figures to say.
func TestCalibrationBattery(t *testing.T) {
	if !*evalFlag || !*evalBattery {
		t.Skip("the battery runs with -eval -eval.battery")
	}
	start := time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)
	t.Logf("%-32s %-10s %6s %8s %6s %6s %6s %6s  %s", "book", "rule", "held", "churners", "lead", "rec30", "prec", "fpr", "thresholds / ridge")
	for _, b := range simulate.Battery {
		if !strings.Contains(b.Name, *evalBook) {
			continue
		}
		opts := simulate.Options{Accounts: *evalAccounts, Weeks: *evalWeeks, Seed: int64(*evalSeed0 + 100), Start: start, ChurnRate: 0.15}
		b.Opts(&opts)
		rows, churn := simulate.Portfolio(opts)
		began := time.Now()
		rep, err := Run(Input{Model: risk.DefaultModel(), Table: snapshot.TableOf(rows), Churn: simulate.ChurnMap(churn)},
			Options{Holdout: *evalHoldout, Seed: int64(*evalSeed0)})
		if err != nil {
			t.Logf("%-32s not calibrated: %v", b.Name, err)
			if opts.ChurnRate > 0.01 {
				t.Errorf("%s: %v", b.Name, err)
			}
			continue
		}
		if err := rep.Proposed.Validate(); err != nil {
			t.Errorf("%s: proposed model: %v", b.Name, err)
		}
		for _, f := range []struct {
			name string
			fig  Figures
			note string
		}{
			{"current", rep.Current, thresholds(rep.Thresholds)},
			{"calibrated", rep.Calibrated, fmt.Sprintf("%s ridge %g", thresholds(rep.ProposedThresholds), rep.Ridge)},
			{"gbm", rep.GBM, fmt.Sprintf("p >= %.3f", rep.GBMThreshold)},
		} {
			m := f.fig.Metrics
			t.Logf("%-32s %-10s %6d %8d %6.1f %6.3f %6.3f %6.3f  %s", b.Name, f.name, m.Accounts, m.Churners, m.MedianLeadDays,
				m.Recall30d, m.Precision, m.FalsePositiveRate, f.note)
		}
		t.Logf("%-32s changed: %s (%.1fs)", b.Name, changed(rep.Changes), time.Since(began).Seconds())
	}
}

func thresholds(t risk.Thresholds) string {
	return fmt.Sprintf("%d/%d/%d", t.Critical, t.Elevated, t.Watch)
}

// changed lists the signals whose points the calibration changed.
func changed(cs []Change) string {
	var parts []string
	for _, c := range cs {
		if c.ProposedPoints != c.Points || c.ProposedSevere != c.SeverePoints {
			parts = append(parts, fmt.Sprintf("%s x%.2f", c.Signal, c.Multiplier))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
