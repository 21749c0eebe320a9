package workflows

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"
)

// TestReplayRecordedHistories replays histories recorded against the real
// embedded server (go test ./worker -run TestEmbeddedScanApproveOutcome
// -record-histories). A change to workflow code that is not deterministic
// against them fails here: guard it with workflow.GetVersion instead.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("want the recorded histories in testdata/, found %v", files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(AccountReview, workflowRegisterOptions(ReviewWorkflow))
			r.RegisterWorkflowWithOptions(PortfolioScan, workflowRegisterOptions(ScanWorkflow))
			r.RegisterWorkflowWithOptions(LeadershipSummary, workflowRegisterOptions(SummaryWorkflow))
			if err := r.ReplayWorkflowHistoryFromJSONFile(quietLogger, f); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}
