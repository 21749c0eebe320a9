package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/workflows"
)

// runScan ingests snapshot files (or, with --source, the worker's
// warehouse source) through the PortfolioScan workflow and reports what it
// scored and which reviews it started.
func runScan(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("scan")
	inputs := inputFlag(fs)
	asOf := fs.String("as-of", "", "score as of this week (YYYY-MM-DD); default: the latest week in the input")
	asJSON := fs.Bool("json", false, "print the scan result as JSON")
	fromSource := fs.Bool("source", false, "also read the worker's warehouse source (source.dsn, source.query); alone, scan only the source")
	if err := parseFlags(fs, args); err != nil {
		return usageError(err)
	}
	if len(*inputs) > 0 || !*fromSource || fs.NArg() > 0 { // --source alone is an input
		if err := checkInputs(fs, *inputs); err != nil {
			return err
		}
	}
	if *asOf != "" {
		if _, err := time.Parse(time.DateOnly, *asOf); err != nil {
			return usageError(fmt.Errorf("--as-of %q is not a YYYY-MM-DD date", *asOf))
		}
	}
	// The worker reads the files, so hand it absolute paths; check them here
	// first for a clear error.
	var files []string
	for _, in := range *inputs {
		abs, err := filepath.Abs(in)
		if err != nil {
			return err
		}
		if _, err := os.Stat(abs); err != nil {
			return fmt.Errorf("input %s: %w", in, err)
		}
		files = append(files, abs)
	}
	c, cfg, err := dial(ctx, fs)
	if err != nil {
		return err
	}
	defer c.Close()

	in := cfg.ScanInput(files, *asOf)
	if *fromSource {
		// The worker reads its own source; the scan carries only the flag
		// and, without files, not the inbox either.
		in.Source, in.Inbox = true, ""
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        review.NewScanID(),
		TaskQueue: cfg.Temporal.TaskQueue,
	}, workflows.ScanWorkflow, in)
	if err != nil {
		return fmt.Errorf("start scan: %w", err)
	}
	var res workflows.ScanResult
	if err := run.Get(ctx, &res); err != nil {
		return fmt.Errorf("scan %s: %w", run.GetID(), plainError(err))
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		printScan(out, res)
	}
	if res.Accounts == 0 {
		return errors.New("nothing could be scored: every row was rejected")
	}
	return nil
}

func printScan(out io.Writer, res workflows.ScanResult) {
	fmt.Fprintf(out, "Scanned %d accounts (%d rows) as of %s, batch %s\n", res.Accounts, res.Rows, res.AsOf, res.BatchID)
	var tiers []string
	for _, t := range risk.Tiers {
		tiers = append(tiers, fmt.Sprintf("%s %d", t, res.Tiers[t]))
	}
	fmt.Fprintf(out, "Tiers: %s\n", strings.Join(tiers, ", "))
	started, open := max(res.StartedCount, len(res.Started)), max(res.AlreadyOpenCount, len(res.AlreadyOpen))
	if started == 0 {
		fmt.Fprintln(out, "No new reviews started.")
	} else {
		listed := ""
		if len(res.Started) < started {
			listed = fmt.Sprintf(" (the %d most severe listed; `starter reviews list` has them all)", len(res.Started))
		}
		fmt.Fprintf(out, "\nStarted %d reviews, awaiting the owners' approval%s:\n", started, listed)
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "REVIEW\tTIER\tSCORE\tOWNER\tWHY")
		for _, c := range res.Started {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", review.ID(c.AccountID, res.AsOf), c.Tier, c.Score, c.Owner, c.Reason)
		}
		tw.Flush()
	}
	if open > 0 {
		more := ""
		if len(res.AlreadyOpen) < open {
			more = fmt.Sprintf(" and %d more", open-len(res.AlreadyOpen))
		}
		fmt.Fprintf(out, "\nAlready under review (nothing new started): %s%s\n", strings.Join(res.AlreadyOpen, ", "), more)
	}
	if len(res.Rejected) > 0 {
		fmt.Fprintf(out, "\nRejected rows (%d):\n", len(res.Rejected))
		for _, r := range res.Rejected {
			fmt.Fprintf(out, "  %s row %d, field %s: %s\n", r.File, r.Row, r.Field, r.Reason)
		}
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(out, "warning: %s\n", w)
	}
}
