package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/snapshot"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/temporalclient"
	"github.com/churnwatch/churnwatch/workflows"
)

// The review benchmark and its floor share one embedded server, so the
// ratio compares workflow code against workflow code on the same machine.
var bench struct {
	once    sync.Once
	cfg     config.Config
	c       client.Client
	st      store.Store
	book    []snapshot.Snapshot
	cleanup []func()
	err     error
}

// reviewsPerIteration is how many workflows each benchmark iteration drives.
const reviewsPerIteration = 100

func benchSetup(b *testing.B) {
	bench.once.Do(func() {
		dir, err := osMkdirTemp()
		if err != nil {
			bench.err = err
			return
		}
		bench.cfg = testConfig(b, dir)
		// startWorker ties cleanup to the first benchmark; run it by hand
		// instead so both benchmarks share the server.
		ctx, cancel := context.WithCancel(context.Background())
		ready := make(chan struct{})
		go func() { bench.err = run(ctx, bench.cfg, discardLogger(), func() { close(ready) }) }()
		<-ready
		bench.cleanup = append(bench.cleanup, cancel)
		bench.c, err = dialBench(ctx, bench.cfg)
		if err != nil {
			bench.err = err
			return
		}
		bench.st, err = store.Open(ctx, "", dir)
		if err != nil {
			bench.err = err
			return
		}
		batch, err := snapshot.ReadFiles([]string{examplePath(b)})
		if err != nil {
			bench.err = err
			return
		}
		bench.book = batch.Rows
		bench.err = bench.st.SaveBatch(ctx, store.Batch{ID: "bench", SourceFiles: []string{"portfolio.csv"}, IngestedAt: time.Now()}, batch.Rows)

		// The floor: a bare workflow with as many activities as a review
		// runs up to its gate (gather, score, save, flag, draft, save,
		// drafted, notify), each doing nothing.
		w := worker.New(bench.c, "bench-bare", worker.Options{})
		w.RegisterWorkflowWithOptions(bareWorkflow, workflow.RegisterOptions{Name: "BareWorkflow"})
		w.RegisterActivityWithOptions(func(ctx context.Context, in string) (string, error) { return in, nil }, activity.RegisterOptions{Name: "Noop"})
		if err := w.Start(); err != nil {
			bench.err = err
			return
		}
		bench.cleanup = append(bench.cleanup, w.Stop)
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
}

const reviewActivitiesToGate = 8

func bareWorkflow(ctx workflow.Context, n int) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second})
	for i := range n {
		if err := workflow.ExecuteActivity(ctx, "Noop", fmt.Sprint(i)).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkReviewsToGate drives AccountReview workflows from start to the
// approval gate (evidence, score, offline drafts, packet and events stored)
// and reports reviews per second.
func BenchmarkReviewsToGate(b *testing.B) {
	benchSetup(b)
	ctx := context.Background()
	accounts := accountIDs(bench.book)
	cfg := bench.cfg
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		prefix := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i)
		for j := range reviewsPerIteration {
			acct := accounts[j%len(accounts)]
			id := fmt.Sprintf("review/%s/%s-%d", acct, prefix, j)
			_, err := bench.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: cfg.Temporal.TaskQueue}, workflows.ReviewWorkflow, workflows.ReviewInput{
				ReviewID: id, AccountID: acct, AccountName: acct, Owner: "dana", Cycle: "2026-11-16",
				Event: "benchmark", Tier: "critical", Score: 80, Policy: cfg.Policy(),
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		// At the gate: the review recorded its drafted event (the last step
		// before the notice and the wait).
		for {
			events, err := bench.st.Events(ctx, store.EventFilter{Kinds: []review.EventKind{review.EventDrafted}})
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for _, e := range events {
				if strings.Contains(e.ReviewID, prefix) {
					n++
				}
			}
			if n == reviewsPerIteration {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*reviewsPerIteration)/time.Since(start).Seconds(), "reviews/s")
}

// BenchmarkBareWorkflow is the floor: the same number of workflows with the
// same number of no-op activities on the same server.
func BenchmarkBareWorkflow(b *testing.B) {
	benchSetup(b)
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		runs := make([]client.WorkflowRun, 0, reviewsPerIteration)
		for j := range reviewsPerIteration {
			r, err := bench.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bare-%d-%d-%d", time.Now().UnixNano(), i, j), TaskQueue: "bench-bare"}, "BareWorkflow", reviewActivitiesToGate)
			if err != nil {
				b.Fatal(err)
			}
			runs = append(runs, r)
		}
		for _, r := range runs {
			if err := r.Get(ctx, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*reviewsPerIteration)/time.Since(start).Seconds(), "workflows/s")
}

func accountIDs(rows []snapshot.Snapshot) []string {
	seen := map[string]bool{}
	var ids []string
	for _, r := range rows {
		if !seen[r.AccountID] {
			seen[r.AccountID] = true
			ids = append(ids, r.AccountID)
		}
	}
	return ids
}

func osMkdirTemp() (string, error) { return os.MkdirTemp("", "churnwatch-bench-") }

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func dialBench(ctx context.Context, cfg config.Config) (client.Client, error) {
	return temporalclient.Dial(ctx, cfg, discardLogger())
}
