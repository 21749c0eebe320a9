package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/churnwatch/churnwatch/backtest"
	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/snapshot"
)

// backtestReport is what `starter backtest --json` prints: the contract
// fields (accounts, churners, flagged_churners, median_lead_days,
// recall_30d, recall_60d, precision, false_positive_rate) and, beyond them,
// the first signals of caught churners and of false alarms, the naive
// baseline on the same data, and every rejected input row.
type backtestReport struct {
	backtest.Result
	ModelVersion string               `json:"model_version"`
	Rejected     []snapshot.Rejection `json:"rejected"`
	Warnings     []string             `json:"warnings"`
}

// runBacktest replays the model over snapshot history against known churn:
//
//	starter backtest --input FILE [--input FILE ...] --churn FILE [--json]
//	                 [--horizon-days N] [--warmup-weeks N] [--from DATE] [--to DATE]
//
// Definitions of every figure are in package backtest.
func runBacktest(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("backtest")
	inputs := inputFlag(fs)
	churnFile := fs.String("churn", "", "CSV of known churn: account_id,churn_date")
	asJSON := fs.Bool("json", false, "print JSON")
	horizon := fs.Int("horizon-days", 180, "credit flags raised at most this many days before churn")
	warmup := fs.Int("warmup-weeks", 4, "weeks of an account's history before its first scored week")
	fromFlag := fs.String("from", "", "first week to score (YYYY-MM-DD); default: all")
	toFlag := fs.String("to", "", "last week to score (YYYY-MM-DD); default: all")
	if err := parseFlags(fs, args); err != nil {
		return usageError(err)
	}
	if err := checkInputs(fs, *inputs); err != nil {
		return err
	}
	if *churnFile == "" {
		return usageError(errors.New("no churn file: give --churn FILE (account_id,churn_date)"))
	}
	if *horizon <= 0 || *warmup <= 0 {
		return usageError(errors.New("--horizon-days and --warmup-weeks must be positive"))
	}
	opts := backtest.Options{HorizonDays: *horizon, WarmupWeeks: *warmup}
	for _, f := range []struct {
		name string
		val  string
		dst  *time.Time
	}{{"--from", *fromFlag, &opts.From}, {"--to", *toFlag, &opts.To}} {
		if f.val == "" {
			continue
		}
		t, ok := snapshot.ParseDate(f.val)
		if !ok {
			return usageError(fmt.Errorf("%s %q is not a date (YYYY-MM-DD)", f.name, f.val))
		}
		*f.dst = snapshot.Monday(t)
	}
	cfg, err := config.Load(fs)
	if err != nil {
		return err
	}

	table, batch, churn, churnRejected, err := readHistory(*inputs, *churnFile, "replay")
	if err != nil {
		return err
	}
	res := backtest.RunTable(cfg.Risk, table, churn, opts)
	rep := backtestReport{Result: res, ModelVersion: risk.ModelVersion,
		Rejected: append(batch.Rejected, churnRejected...), Warnings: batch.Warnings}
	if rep.Rejected == nil {
		rep.Rejected = []snapshot.Rejection{}
	}
	if rep.Warnings == nil {
		rep.Warnings = []string{}
	}
	if res.UnknownChurn > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s in %s %s no snapshot rows and %s not counted", accounts(res.UnknownChurn), *churnFile, choose(res.UnknownChurn, "has", "have"), choose(res.UnknownChurn, "is", "are")))
	}
	if res.ExcludedChurned > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s churned before %s first scored week and %s not counted", accounts(res.ExcludedChurned), choose(res.ExcludedChurned, "its", "their"), choose(res.ExcludedChurned, "is", "are")))
	}
	if res.Accounts == 0 {
		return errors.New("nothing to replay: no account has enough history (see --warmup-weeks, --from, --to)")
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return writeBacktestText(out, rep)
}

func writeBacktestText(out io.Writer, r backtestReport) error {
	fmt.Fprintf(out, "Backtest %s..%s (%d weeks), %d accounts, %d churners; model %s %s\n\n",
		r.From, r.To, r.ScoredWeeks, r.Accounts, r.Churners, r.ModelVersion, r.ConfigHash)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tmodel\tbaseline\t")
	row := func(name string, m, b any) { fmt.Fprintf(tw, "%s\t%v\t%v\t\n", name, m, b) }
	row("flagged churners", r.FlaggedChurners, r.Baseline.FlaggedChurners)
	row("median lead days", r.MedianLeadDays, r.Baseline.MedianLeadDays)
	row("recall at 30 days", r.Recall30d, r.Baseline.Recall30d)
	row("recall at 60 days", r.Recall60d, r.Baseline.Recall60d)
	row("precision", r.Precision, r.Baseline.Precision)
	row("false-positive rate", r.FalsePositiveRate, r.Baseline.FalsePositiveRate)
	row("alerts per week", r.AlertsPerWeek, r.Baseline.AlertsPerWeek)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nbaseline: %s\n", r.BaselineRule)
	fmt.Fprintf(out, "first signals, caught churners: %s\n", topCounts(r.FirstSignalsChurners))
	fmt.Fprintf(out, "first signals, false alarms:    %s\n", topCounts(r.FirstSignalsFalseAlarms))
	if len(r.MissedChurners) > 0 {
		fmt.Fprintf(out, "missed churners: %s\n", strings.Join(r.MissedChurners, ", "))
	}
	printRejected(out, r.Rejected, r.Warnings)
	return nil
}

// topCounts formats counts, largest first.
func topCounts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// accounts is "1 account" or "n accounts".
func accounts(n int) string { return fmt.Sprintf("%d %s", n, choose(n, "account", "accounts")) }

// choose picks the singular or the plural word for n.
func choose(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
