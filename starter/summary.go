package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/pflag"
	"go.temporal.io/sdk/client"

	"github.com/churnwatch/churnwatch/review"
)

// runSummary prints the leadership summary, built on demand by the
// LeadershipSummary workflow.
func runSummary(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("summary")
	week := fs.String("week", "", "the week to summarise (YYYY-MM-DD); default: the latest scored week")
	format := fs.String("format", "md", "json, md or csv")
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	if *format != "json" && *format != "md" && *format != "csv" {
		return usageError(fmt.Errorf("--format %q is not json, md or csv", *format))
	}
	rep, err := buildReport(ctx, fs, *week)
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		_, err = fmt.Fprintf(out, "%s\n", rep.JSON)
	case "csv":
		_, err = io.WriteString(out, rep.CSV)
	default:
		_, err = io.WriteString(out, rep.Markdown)
	}
	return err
}

// runAudit prints the decision packets of elevated and critical accounts.
func runAudit(ctx context.Context, args []string, out io.Writer) error {
	if _, rest, err := splitSub(args, "packets"); err != nil {
		return err
	} else {
		args = rest
	}
	fs := newFlagSet("audit packets")
	week := fs.String("week", "", "the week to audit (YYYY-MM-DD); default: the latest scored week")
	fs.Bool("json", true, "print JSON (the only format)")
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	rep, err := buildReport(ctx, fs, *week)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s\n", rep.Audit)
	return err
}

// runRegister exports the risk register as CSV.
func runRegister(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("register")
	week := fs.String("week", "", "the week (YYYY-MM-DD); default: the latest scored week")
	fs.Bool("csv", true, "print CSV (the only format)")
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	rep, err := buildReport(ctx, fs, *week)
	if err != nil {
		return err
	}
	_, err = io.WriteString(out, rep.Register)
	return err
}

func buildReport(ctx context.Context, fs *pflag.FlagSet, week string) (review.Report, error) {
	if week != "" {
		if _, err := time.Parse(time.DateOnly, week); err != nil {
			return review.Report{}, usageError(fmt.Errorf("--week %q is not a YYYY-MM-DD date", week))
		}
	}
	c, cfg, err := dial(ctx, fs)
	if err != nil {
		return review.Report{}, err
	}
	defer c.Close()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        "summary/" + uuid.NewString(),
		TaskQueue: cfg.Temporal.TaskQueue,
	}, review.SummaryWorkflow, review.SummaryInput{Week: week})
	if err != nil {
		return review.Report{}, fmt.Errorf("start summary: %w", err)
	}
	var rep review.Report
	if err := run.Get(ctx, &rep); err != nil {
		return rep, fmt.Errorf("summary: %w", plainError(err))
	}
	if len(rep.JSON) == 0 {
		return rep, errors.New("summary: the worker returned an empty report")
	}
	return rep, nil
}
