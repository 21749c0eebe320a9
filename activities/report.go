package activities

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/summary"
	"github.com/churnwatch/churnwatch/workflows"
)

// ReportActivities build LeadershipSummary's report.
type ReportActivities struct {
	Store  store.Store
	Logger *slog.Logger
}

// reportRetention is how long a report built on demand (`starter
// summary`, `audit packets`, `register`) stays in the store: its reader
// fetches it at once. The weekly schedule's copies are kept.
const reportRetention = 24 * time.Hour

// BuildReport builds the leadership summary, the packet audit and the risk
// register of a week (or the parts in.Parts names), stores them (store.Report) and returns the report's
// ID, week and sizes only: the parts grow with the book (~16 MB at 10,000
// accounts), far past Temporal's 2 MB payload limit, and the CLI and the
// API read them from the store.
func (a *ReportActivities) BuildReport(ctx context.Context, in workflows.SummaryInput) (workflows.Report, error) {
	week, parts, err := a.renderReport(ctx, in)
	if err != nil {
		return workflows.Report{}, err
	}
	info := activity.GetInfo(ctx)
	r := store.Report{ID: reportID(info.WorkflowExecution.ID, info.WorkflowExecution.RunID), Week: week,
		Created: time.Now(), Kept: in.Save, Parts: parts}
	if err := a.Store.SaveReport(ctx, r); err != nil {
		return workflows.Report{}, fmt.Errorf("save report: %w", err)
	}
	if n, err := a.Store.PruneReports(ctx, r.Created.Add(-reportRetention)); err != nil {
		logOr(a.Logger).Warn("prune on-demand reports", "error", err)
	} else if n > 0 {
		logOr(a.Logger).Info("pruned on-demand reports", "parts", n)
	}
	rep := workflows.Report{ID: r.ID, Week: week, Sizes: map[string]int{}}
	for kind, b := range parts {
		rep.Sizes[kind] = len(b)
	}
	return rep, nil
}

// reportID names the report of one summary run: a retried activity writes
// the same report again.
func reportID(workflowID, runID string) string {
	sum := sha256.Sum256([]byte(workflowID + "/" + runID))
	return "report-" + hex.EncodeToString(sum[:])[:20]
}

// renderReport renders the parts in asks for of the week's report (the
// latest scored week when in.Week is ""), each read from the store on its
// own: a part not asked for costs nothing.
func (a *ReportActivities) renderReport(ctx context.Context, in workflows.SummaryInput) (string, map[string][]byte, error) {
	week, err := summary.ResolveWeek(ctx, a.Store, in.Week)
	if errors.Is(err, summary.ErrNoScores) { // no retry can score a week
		return "", nil, temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrInvalidInput, err)
	}
	if err != nil {
		return "", nil, fmt.Errorf("resolve week: %w", err)
	}
	parts := map[string][]byte{}
	if in.Wants(workflows.ReportSummary) {
		s, err := summary.Build(ctx, a.Store, week)
		if err != nil {
			return "", nil, fmt.Errorf("build summary: %w", err)
		}
		js, err := json.Marshal(s)
		if err != nil {
			return "", nil, err
		}
		parts[store.ReportSummaryJSON], parts[store.ReportSummaryMD], parts[store.ReportSummaryCSV] = js, []byte(s.Markdown()), []byte(s.CSV())
	}
	if in.Wants(workflows.ReportAudit) {
		audit, err := summary.Audit(ctx, a.Store, week)
		if err != nil {
			return "", nil, fmt.Errorf("audit packets: %w", err)
		}
		if parts[store.ReportAudit], err = json.Marshal(audit); err != nil {
			return "", nil, err
		}
	}
	if in.Wants(workflows.ReportRegister) {
		register, err := a.register(ctx, week)
		if err != nil {
			return "", nil, err
		}
		parts[store.ReportRegister] = register
	}
	return week, parts, nil
}

// register renders the week's risk register as CSV.
func (a *ReportActivities) register(ctx context.Context, week string) ([]byte, error) {
	scores, err := a.Store.ScoresAsOf(ctx, week)
	if err != nil {
		return nil, fmt.Errorf("load scores of %s: %w", week, err)
	}
	packets, err := a.Store.Packets(ctx, store.PacketFilter{Through: week})
	if err != nil {
		return nil, fmt.Errorf("load packets: %w", err)
	}
	// Rank the whole week: the scan saved its chunks' scores apart, each
	// ranked within its chunk.
	risk.Rank(scores)
	var register bytes.Buffer
	if err := summary.RiskRegisterCSV(&register, scores, packets); err != nil {
		return nil, fmt.Errorf("risk register: %w", err)
	}
	return register.Bytes(), nil
}
