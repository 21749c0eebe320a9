package activities

import (
	"context"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/temporalserver"
)

// continuesOnce stands in for a review that waited long: its first run
// continues as new, the next waits for a signal.
func continuesOnce(ctx workflow.Context, continued bool) error {
	if !continued {
		return workflow.NewContinueAsNewError(ctx, "continuesOnce", true)
	}
	workflow.GetSignalChannel(ctx, "stop").Receive(ctx, nil)
	return nil
}

// TestAReviewThatContinuedAsNewKeepsItsAccount: the reservation names the
// review's first run; once that run continued as new, the account stays
// held while the latest run runs, and is freed once it ends.
func TestAReviewThatContinuedAsNewKeepsItsAccount(t *testing.T) {
	port, err := temporalserver.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := temporalserver.Start(temporalserver.Options{DataDir: t.TempDir(), Port: port, Namespaces: []string{"default"}, LogLevel: "error"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	c, err := client.Dial(client.Options{HostPort: srv.Address(), Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	w := worker.New(c, "continued", worker.Options{})
	w.RegisterWorkflowWithOptions(continuesOnce, workflow.RegisterOptions{Name: "continuesOnce"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	ctx := context.Background()
	id := review.ID("A-1", "2026-11-16")
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: "continued"}, "continuesOnce", false)
	if err != nil {
		t.Fatal(err)
	}
	for {
		desc, err := c.DescribeWorkflowExecution(ctx, id, run.GetRunID())
		if err != nil {
			t.Fatal(err)
		}
		if desc.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}

	a, _ := newActivities(t)
	a.Temporal = c
	reserved := time.Now().Add(-time.Hour)
	if _, ok, err := a.Store.ReserveAccount(ctx, store.Reservation{AccountID: "A-1", ReviewID: id, Cycle: "2026-11-16", RunID: run.GetRunID(), ReservedAt: reserved}); err != nil || !ok {
		t.Fatalf("reserve: %v %v", ok, err)
	}
	if open, err := a.openReview(ctx, "A-1"); err != nil || open != id {
		t.Fatalf("while the continued review runs: open review %q (%v), want %s", open, err, id)
	}
	if err := c.SignalWorkflow(ctx, id, "", "stop", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.GetWorkflow(ctx, id, "").Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if open, err := a.openReview(ctx, "A-1"); err != nil || open != "" {
		t.Fatalf("once it ended: open review %q (%v), want none", open, err)
	}
}
