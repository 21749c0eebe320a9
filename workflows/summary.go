package workflows

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"
)

// SummaryWorkflow is the type name of LeadershipSummary.
const SummaryWorkflow = "LeadershipSummary"

// SummaryInput asks for the leadership summary of a week ("" = latest).
type SummaryInput struct {
	Week string `json:"week,omitempty"`
	// Save keeps the stored report (the weekly schedule's copy); the others
	// are pruned after a day.
	Save bool `json:"save,omitempty"`
	// Parts names the parts to build (ReportSummary, ReportAudit,
	// ReportRegister); none builds them all. A command that prints one part
	// asks for that one: on a large book each part reads the week's scores
	// and packets again.
	Parts []string `json:"parts,omitempty"`
}

// The parts of a report SummaryInput.Parts names.
const (
	ReportSummary  = "summary"  // the leadership summary, as JSON, Markdown and CSV
	ReportAudit    = "audit"    // the packet audit
	ReportRegister = "register" // the risk register
)

// Wants reports whether the report is to have part.
func (in SummaryInput) Wants(part string) bool {
	return len(in.Parts) == 0 || slices.Contains(in.Parts, part)
}

// Report is the leadership summary of one week in every format, and the
// packet audit, as the summary activity rendered them.
//
// The summary activity stores the rendered parts (store.Report) and
// returns ID, Week and Sizes alone: at 10,000 accounts the parts are over
// Temporal's 2 MB payload limit. The parts below are filled only in
// results recorded before reports moved to the store.
type Report struct {
	ID       string          `json:"id,omitempty"`
	Sizes    map[string]int  `json:"sizes,omitempty"` // bytes per stored part
	Week     string          `json:"week"`
	JSON     json.RawMessage `json:"json,omitempty"`
	Markdown string          `json:"markdown,omitempty"`
	CSV      string          `json:"csv,omitempty"`
	Audit    json.RawMessage `json:"audit,omitempty"`
	Register string          `json:"register,omitempty"` // the risk register as CSV
}

// LeadershipSummary builds the weekly portfolio summary and the packet
// audit. It runs on a weekly Schedule and on demand (`starter summary`).
func LeadershipSummary(ctx workflow.Context, in SummaryInput) (Report, error) {
	ctx = withDefaultActivityOptions(ctx)
	ctx = workflow.WithStartToCloseTimeout(ctx, 10*time.Minute)
	var rep Report
	if err := workflow.ExecuteActivity(ctx, ActBuildReport, in).Get(ctx, &rep); err != nil {
		return rep, fmt.Errorf("build report: %w", err)
	}
	return rep, nil
}
