package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/churnwatch/churnwatch/backtest"
	"github.com/churnwatch/churnwatch/calibrate"
	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/snapshot"
	"github.com/churnwatch/churnwatch/store"
)

// calibrateReport is what `starter calibrate --json` prints.
type calibrateReport struct {
	calibrate.Report
	ProposalFile string               `json:"proposal_file"`
	Rejected     []snapshot.Rejection `json:"rejected"`
	Warnings     []string             `json:"warnings"`
}

// runCalibrate fits the model's points and thresholds to the book's own
// churn history and writes them as a proposed config change; nothing is
// applied (docs/calibration.md):
//
//	starter calibrate --input FILE [--input FILE ...] --churn FILE [--holdout 0.3] [--seed N]
//	                  [--out FILE] [--outcomes] [--json]
func runCalibrate(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("calibrate")
	inputs := inputFlag(fs)
	churnFile := fs.String("churn", "", "CSV of known churn: account_id,churn_date")
	holdout := fs.Float64("holdout", 0.3, "share of accounts held back to report on, never fitted on")
	seed := fs.Int64("seed", 1, "picks the held-back accounts (and the cross-validation folds)")
	outFile := fs.String("out", "", "where to write the proposed config change (default: DATA_DIR/calibration/risk-HASH.yaml)")
	outcomes := fs.Bool("outcomes", false, "also read hit rates from the decision record in the configured store")
	targetFPR := fs.Float64("target-fpr", 0, "account false-alarm rate to set elevated at on the fitting part (0 = the current model's there)")
	ridge := fs.Float64("ridge", 0, "pull toward the current points, in account-weeks (0 = chosen by cross-validation)")
	horizon := fs.Int("horizon-days", 180, "a week counts as before churn when churn is at most this many days ahead")
	warmup := fs.Int("warmup-weeks", 4, "weeks of an account's history before its first scored week")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return usageError(err)
	}
	if err := checkInputs(fs, *inputs); err != nil {
		return err
	}
	switch {
	case *churnFile == "":
		return usageError(errors.New("no churn file: give --churn FILE (account_id,churn_date)"))
	case !(*holdout > 0 && *holdout < 1):
		return usageError(fmt.Errorf("--holdout %v: must be between 0 and 1", *holdout))
	case *horizon <= 0 || *warmup <= 0:
		return usageError(errors.New("--horizon-days and --warmup-weeks must be positive"))
	case *targetFPR < 0 || *targetFPR >= 1 || *ridge < 0:
		return usageError(errors.New("--target-fpr must be from 0 up to 1 and --ridge not negative"))
	}
	cfg, err := config.Load(fs)
	if err != nil {
		return err
	}
	if *outFile != "" { // refuse the live config before the work, not after
		if _, err := proposalPath(fs, cfg, *outFile, ""); err != nil {
			return err
		}
	}
	table, batch, churn, churnRejected, err := readHistory(*inputs, *churnFile, "calibrate on")
	if err != nil {
		return err
	}
	in := calibrate.Input{Model: cfg.Risk, Table: table, Churn: churn}
	if *outcomes {
		if in.Decisions, err = readDecisions(ctx, cfg); err != nil {
			return err
		}
	}
	rep, err := calibrate.Run(in, calibrate.Options{Holdout: *holdout, Seed: *seed, HorizonDays: *horizon, WarmupWeeks: *warmup,
		TargetFPR: *targetFPR, Ridge: *ridge})
	if err != nil {
		return err
	}
	path, err := proposalPath(fs, cfg, *outFile, rep.ProposedHash)
	if err != nil {
		return err
	}
	fitted := fmt.Sprintf("%s; churn %s", strings.Join(*inputs, ", "), *churnFile)
	if *outcomes {
		fitted += fmt.Sprintf("; hit rates also from %d resolved reviews", len(in.Decisions))
	}
	if err := writeProposal(path, rep, fitted); err != nil {
		return err
	}
	res := newCalibrateReport(rep, path, append(batch.Rejected, churnRejected...), batch.Warnings)
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return writeCalibrateText(out, res)
}

func newCalibrateReport(rep calibrate.Report, path string, rejected []snapshot.Rejection, warnings []string) calibrateReport {
	res := calibrateReport{Report: rep, ProposalFile: path, Rejected: rejected, Warnings: warnings}
	if res.Rejected == nil {
		res.Rejected = []snapshot.Rejection{}
	}
	if res.Warnings == nil {
		res.Warnings = []string{}
	}
	if rep.HoldoutChurners < 10 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("only %d churners held back: the held-back figures are rough (see the hit rates' intervals)", rep.HoldoutChurners))
	}
	return res
}

// readDecisions reads the resolved reviews of the decision record. Without
// store.dsn the SQLite file must already exist: opening would otherwise
// create an empty record on this machine.
func readDecisions(ctx context.Context, cfg config.Config) ([]calibrate.Decision, error) {
	if cfg.Store.DSN == "" {
		path := filepath.Join(cfg.DataDir, store.FileName)
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("--outcomes: no store on this machine (no store.dsn, no %s)", path)
		}
	}
	st, err := store.Open(ctx, cfg.Store.DSN, cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("--outcomes: %w", err)
	}
	defer st.Close()
	packets, err := st.Packets(ctx, store.PacketFilter{})
	if err != nil {
		return nil, fmt.Errorf("--outcomes: read the decision record: %w", err)
	}
	var ds []calibrate.Decision
	for _, p := range packets {
		if d, ok := calibrate.DecisionOf(p); ok {
			ds = append(ds, d)
		}
	}
	return ds, nil
}

// proposalPath is --out, or a file named for the proposed hash under the
// data dir. It is never the config file in use: a proposal is reviewed
// and merged by a person, not written over the live configuration.
func proposalPath(fs *pflag.FlagSet, cfg config.Config, out, hash string) (string, error) {
	if out == "" {
		out = filepath.Join(cfg.DataDir, "calibration", "risk-"+hash+".yaml")
	}
	if live := fs.Lookup("config").Value.String(); live != "" && sameFile(live, out) {
		return "", usageError(fmt.Errorf("--out %s is the config file in use: a proposal is written beside it, for review", out))
	}
	return out, nil
}

func sameFile(a, b string) bool {
	if fa, err := os.Stat(a); err == nil {
		if fb, err := os.Stat(b); err == nil {
			return os.SameFile(fa, fb)
		}
	}
	aa, errA := filepath.Abs(a)
	bb, errB := filepath.Abs(b)
	return errA == nil && errB == nil && aa == bb
}

func writeProposal(path string, rep calibrate.Report, fitted string) error {
	var buf bytes.Buffer
	if err := calibrate.WriteProposal(&buf, rep, fitted); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write proposal: %w", err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write proposal: %w", err)
	}
	return nil
}

func writeCalibrateText(out io.Writer, r calibrateReport) error {
	fmt.Fprintf(out, "Calibration of %s (config %s): %d accounts, %d fitted on (%d churners), %d held back (%d churners); seed %d\n\n",
		r.ModelVersion, r.ConfigHash, r.Accounts, r.FitAccounts, r.FitChurners, r.HoldoutAccounts, r.HoldoutChurners, r.Seed)
	fmt.Fprintf(out, "Hit rates: of the accounts a signal or tier was on, how many churned within %d days (history) or were confirmed at risk (decisions); Wilson 95%% interval\n", r.HorizonDays)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  source\tkind\tid\thits/n\trate\t95% interval")
	for _, h := range r.HitRates {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%d/%d\t%.3f\t%.3f-%.3f\n", h.Source, h.Kind, h.ID, h.Hits, h.N, h.Rate, h.Low, h.High)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := writeProposedPoints(out, r.Report); err != nil {
		return err
	}
	t, p := r.Thresholds, r.ProposedThresholds
	fmt.Fprintf(out, "\nThresholds: critical %d -> %d, elevated %d -> %d, watch %d -> %d (elevated at a false-alarm rate of %.3f on the fitting part)\n\n",
		t.Critical, p.Critical, t.Elevated, p.Elevated, t.Watch, p.Watch, r.TargetFPR)
	fmt.Fprintf(out, "Held-back accounts (%d, %d churners), as `starter backtest` measures:\n", r.HoldoutAccounts, r.HoldoutChurners)
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tcurrent\tproposed\tgbm\tnaive\t")
	figs := []calibrate.Figures{r.Current, r.Calibrated, r.GBM, r.Naive}
	row := func(name string, f func(backtest.Metrics) any) {
		fmt.Fprintf(tw, "%s\t", name)
		for _, g := range figs {
			fmt.Fprintf(tw, "%v\t", f(g.Metrics))
		}
		fmt.Fprintln(tw)
	}
	row("flagged churners", func(m backtest.Metrics) any { return m.FlaggedChurners })
	row("median lead days", func(m backtest.Metrics) any { return m.MedianLeadDays })
	row("recall at 30 days", func(m backtest.Metrics) any { return m.Recall30d })
	row("precision", func(m backtest.Metrics) any { return m.Precision })
	row("false-positive rate", func(m backtest.Metrics) any { return m.FalsePositiveRate })
	row("false alarms", func(m backtest.Metrics) any { return m.FalseAlarms })
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nOn the fitting part (%d accounts, %d churners; what the fit saw):\n", r.FitCurrent.Accounts, r.FitCurrent.Churners)
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tlead days\trecall 30d\tprecision\tfpr\t")
	for _, f := range []struct {
		name string
		m    backtest.Metrics
	}{{"current", r.FitCurrent.Metrics}, {"proposed", r.FitCalibrated.Metrics}} {
		fmt.Fprintf(tw, "%s\t%v\t%v\t%v\t%v\t\n", f.name, f.m.MedianLeadDays, f.m.Recall30d, f.m.Precision, f.m.FalsePositiveRate)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "\ngbm: gradient-boosted trees on the same account-weeks, for comparison only; naive: %s\n", strings.TrimPrefix(r.Naive.Rule, "naive: "))
	fmt.Fprintf(out, "\nWrote the proposal %s to %s.\nNothing is applied: review it, then merge its risk: keys into your config file.\n", r.ProposedVersion, r.ProposalFile)
	printRejected(out, r.Rejected, r.Warnings)
	return nil
}

// writeProposedPoints prints each signal's current and proposed points,
// and the dimension caps that move with them.
func writeProposedPoints(out io.Writer, r calibrate.Report) error {
	fmt.Fprintf(out, "\nProposed points (points/severe points; fitted on %d account-weeks, ridge %g, %.3f log-odds per point):\n", r.FitSamples, r.Ridge, r.Scale)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	unseen := 0
	for _, c := range r.Changes {
		if c.AccountsFired == 0 {
			unseen++ // the fit kept its points: nothing to learn from
			continue
		}
		fmt.Fprintf(tw, "  %s\t%s\t->\t%s\tx%.2f\ton %d accounts\n", c.Signal, points(c.Points, c.SeverePoints, c.YesNo),
			points(c.ProposedPoints, c.ProposedSevere, c.YesNo), c.Multiplier, c.AccountsFired)
	}
	for _, c := range r.Caps {
		if c.ProposedCap != c.Cap {
			fmt.Fprintf(tw, "  cap of %s\t%d\t->\t%d\t\t(its largest multiplier)\n", c.Dimension, c.Cap, c.ProposedCap)
		}
	}
	if unseen > 0 {
		fmt.Fprintf(tw, "  (%d more signals never scored on the fitting part: their points stay)\n", unseen)
	}
	return tw.Flush()
}

// points is "14/30", or "18" for a yes/no signal.
func points(p, severe int, yesNo bool) string {
	if yesNo {
		return fmt.Sprint(p)
	}
	return fmt.Sprintf("%d/%d", p, severe)
}
