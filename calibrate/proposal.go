package calibrate

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// WriteProposal writes the proposed configuration change as YAML under the
// risk: keys config.Load reads, only the keys that change (the three
// thresholds always), each with the value it replaces. The header names
// the proposed model version, the data it was fitted on (fittedOn, in the
// caller's words) and the held-back figures. Merged into the live config
// file the calibration started from, it gives exactly rep.Proposed, so
// scores are then stamped with rep.ProposedHash.
func WriteProposal(w io.Writer, rep Report, fittedOn string) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	p("# Proposed risk model calibration: %s\n", rep.ProposedVersion)
	p("# Written by `starter calibrate`. NOTHING IS APPLIED: a person reviews this file and, if\n")
	p("# they accept it, merges the risk: keys below into churnwatch.yaml. Scores are then\n")
	p("# stamped with config hash %s (now %s) under model %s.\n", rep.ProposedHash, rep.ConfigHash, rep.ModelVersion)
	p("#\n# Fitted on: %s\n", oneLine(fittedOn))
	p("# %d accounts: %d fitted on (%d churners, %d account-weeks), %d held back (%d churners);\n",
		rep.Accounts, rep.FitAccounts, rep.FitChurners, rep.FitSamples, rep.HoldoutAccounts, rep.HoldoutChurners)
	p("# seed %d, holdout %.2f, horizon %d days, elevated set at a false-alarm rate of %.3f.\n", rep.Seed, rep.Holdout, rep.HorizonDays, rep.TargetFPR)
	p("#\n# Held-back accounts (same accounts, definitions of `starter backtest`):\n")
	p("#   %-12s %9s %7s %9s %7s %7s\n", "rule", "lead_days", "rec30", "precision", "fpr", "alarms")
	for _, f := range []struct {
		name string
		fig  Figures
	}{{"current", rep.Current}, {"proposed", rep.Calibrated}, {"gbm", rep.GBM}, {"naive", rep.Naive}} {
		m := f.fig.Metrics
		p("#   %-12s %9.1f %7.3f %9.3f %7.3f %7d\n", f.name, m.MedianLeadDays, m.Recall30d, m.Precision, m.FalsePositiveRate, m.FalseAlarms)
	}
	p("# (gbm is an opaque gradient-boosted baseline shown for comparison; it is not proposed.)\n")
	p("risk:\n  thresholds:\n")
	t, old := rep.ProposedThresholds, rep.Thresholds
	p("    critical: %d%s\n", t.Critical, was(t.Critical, old.Critical))
	p("    elevated: %d%s\n", t.Elevated, was(t.Elevated, old.Elevated))
	p("    watch: %d%s\n", t.Watch, was(t.Watch, old.Watch))
	first := true
	for _, c := range rep.Caps {
		if c.ProposedCap == c.Cap {
			continue
		}
		if first {
			p("  dimensions:\n")
			first = false
		}
		p("    %s:\n      cap: %d%s\n", c.Dimension, c.ProposedCap, was(c.ProposedCap, c.Cap))
	}
	first = true
	for _, c := range rep.Changes {
		if c.ProposedPoints == c.Points && c.ProposedSevere == c.SeverePoints {
			continue
		}
		if first {
			p("  signals:\n")
			first = false
		}
		p("    %s: # x%.2f on %d fitted accounts\n", c.Signal, c.Multiplier, c.AccountsFired)
		p("      points: %d%s\n", c.ProposedPoints, was(c.ProposedPoints, c.Points))
		if !c.YesNo {
			p("      severe_points: %d%s\n", c.ProposedSevere, was(c.ProposedSevere, c.SeverePoints))
		}
	}
	return bw.Flush()
}

func was(now, before int) string {
	if now == before {
		return " # unchanged"
	}
	return fmt.Sprintf(" # was %d", before)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
