package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/pflag"
	"go.temporal.io/sdk/client"

	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/summary"
	"github.com/churnwatch/churnwatch/workflows"
)

// runSummary prints the leadership summary, built on demand by the
// LeadershipSummary workflow.
func runSummary(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("summary")
	week := fs.String("week", "", "the week to summarise (YYYY-MM-DD); default: the latest scored week")
	format := fs.String("format", "md", "json, md or csv")
	if err := parseFlags(fs, args); err != nil {
		return usageError(err)
	}
	if *format != "json" && *format != "md" && *format != "csv" {
		return usageError(fmt.Errorf("--format %q is not json, md or csv", *format))
	}
	rep, cfg, err := buildReport(ctx, fs, *week, workflows.ReportSummary)
	if err != nil {
		return err
	}
	kind := map[string]string{"json": store.ReportSummaryJSON, "csv": store.ReportSummaryCSV, "md": store.ReportSummaryMD}[*format]
	b, err := readReport(ctx, cfg, rep, kind)
	if err != nil {
		return err
	}
	if *format == "json" {
		b = append(b, '\n')
	}
	_, err = out.Write(b)
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
	asJSON := fs.Bool("json", false, "print the packets, each with its eight parts, as JSON")
	if err := parseFlags(fs, args); err != nil {
		return usageError(err)
	}
	rep, cfg, err := buildReport(ctx, fs, *week, workflows.ReportAudit)
	if err != nil {
		return err
	}
	audit, err := readReport(ctx, cfg, rep, store.ReportAudit)
	if err != nil {
		return err
	}
	if *asJSON {
		_, err = fmt.Fprintf(out, "%s\n", audit)
		return err
	}
	var packets []summary.AuditPacket
	if err := json.Unmarshal(audit, &packets); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return printAudit(out, rep.Week, packets)
}

// printAudit lays the packets out one per line with the parts each lacks;
// an account flagged at risk without any review shows "-" for its review.
func printAudit(out io.Writer, week string, packets []summary.AuditPacket) error {
	fmt.Fprintf(out, "Decision packets of elevated and critical accounts, week of %s: %d\n\n", week, len(packets))
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REVIEW\tACCOUNT\tTIER\tOWNER\tMISSING")
	for _, p := range packets {
		missing := strings.Join(p.Missing, ", ")
		if len(p.Missing) == 0 {
			missing = "none (complete)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", dash(p.ReviewID), p.AccountID, p.Tier, dash(p.Owner), missing)
	}
	return tw.Flush()
}

// runRegister exports the risk register as CSV.
func runRegister(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("register")
	week := fs.String("week", "", "the week (YYYY-MM-DD); default: the latest scored week")
	fs.Bool("csv", true, "print CSV (the only format)")
	if err := parseFlags(fs, args); err != nil {
		return usageError(err)
	}
	rep, cfg, err := buildReport(ctx, fs, *week, workflows.ReportRegister)
	if err != nil {
		return err
	}
	register, err := readReport(ctx, cfg, rep, store.ReportRegister)
	if err != nil {
		return err
	}
	_, err = out.Write(register)
	return err
}

// buildReport runs the LeadershipSummary workflow for part of week's
// report and returns the report it built: a reference to the report in the
// store (readReport reads its parts), or from an older worker the parts
// themselves.
func buildReport(ctx context.Context, fs *pflag.FlagSet, week, part string) (workflows.Report, config.Config, error) {
	if week != "" {
		if _, err := time.Parse(time.DateOnly, week); err != nil {
			return workflows.Report{}, config.Config{}, usageError(fmt.Errorf("--week %q is not a YYYY-MM-DD date", week))
		}
	}
	c, cfg, err := dial(ctx, fs)
	if err != nil {
		return workflows.Report{}, cfg, err
	}
	defer c.Close()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        "summary/" + uuid.NewString(),
		TaskQueue: cfg.Temporal.TaskQueue,
	}, workflows.SummaryWorkflow, workflows.SummaryInput{Week: week, Parts: []string{part}})
	if err != nil {
		return workflows.Report{}, cfg, fmt.Errorf("start summary: %w", err)
	}
	var rep workflows.Report
	if err := run.Get(ctx, &rep); err != nil {
		return rep, cfg, fmt.Errorf("summary: %w", plainError(err))
	}
	if rep.ID == "" && len(rep.JSON) == 0 {
		return rep, cfg, errEmptyReport
	}
	return rep, cfg, nil
}
