package main

import (
	"context"
	"sync"
	"testing"

	"go.temporal.io/sdk/testsuite"

	"github.com/churnwatch/churnwatch/activities"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/workflows"
)

// openTestStore opens a SQLite store of its own for activities run by hand.
func openTestStore(t testing.TB) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// startReviews runs StartReviews once, as the scan does, against the real
// server.
func startReviews(t *testing.T, acts *activities.ScanActivities, req workflows.StartReviewsRequest) workflows.StartReviewsResult {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	v, err := env.ExecuteActivity(workflows.ActStartReviews, req)
	if err != nil {
		t.Error(err)
		return workflows.StartReviewsResult{}
	}
	var res workflows.StartReviewsResult
	if err := v.Get(&res); err != nil {
		t.Error(err)
	}
	return res
}

// TestStartReviewsKeepsOneOpenReviewPerAccount: two scans of different
// weeks starting reviews at the same time open one review per account
// between them (their review IDs differ: only the store's reservation
// stops the second); a terminated review, which never closes itself,
// releases its account to the next scan.
func TestStartReviewsKeepsOneOpenReviewPerAccount(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	c := startWorker(t, cfg)
	// Nobody polls the queue: the reviews stay running and undecided.
	acts := &activities.ScanActivities{Temporal: c, TaskQueue: "nobody-polls", Store: openTestStore(t)}
	candidates := []workflows.Candidate{
		{AccountID: "R-1", Owner: "dana", Tier: risk.Critical, Score: 90},
		{AccountID: "R-2", Owner: "dana", Tier: risk.Elevated, Score: 50},
		{AccountID: "R-3", Owner: "li.wei", Tier: risk.Elevated, Score: 45},
	}
	weeks := []string{"2026-11-16", "2026-11-23"}
	results := make([]workflows.StartReviewsResult, len(weeks))
	var wg sync.WaitGroup
	for i, week := range weeks {
		wg.Go(func() {
			results[i] = startReviews(t, acts, workflows.StartReviewsRequest{Cycle: week, Candidates: candidates})
		})
	}
	wg.Wait()
	started := map[string][]string{}
	for i, res := range results {
		for _, s := range res.Started {
			started[s.AccountID] = append(started[s.AccountID], weeks[i])
		}
		if len(res.Started)+len(res.AlreadyOpen) != len(candidates) {
			t.Errorf("scan of %s: %+v does not account for every candidate", weeks[i], res)
		}
	}
	for _, cand := range candidates {
		if len(started[cand.AccountID]) != 1 {
			t.Fatalf("account %s: reviews started for %v, want exactly one", cand.AccountID, started[cand.AccountID])
		}
	}

	// Terminate R-1's review: the next scan reviews R-1 again, and only R-1.
	first := review.ID("R-1", started["R-1"][0])
	if err := c.TerminateWorkflow(context.Background(), first, "", "test: terminated by an operator"); err != nil {
		t.Fatal(err)
	}
	next := startReviews(t, acts, workflows.StartReviewsRequest{Cycle: "2026-11-30", Candidates: candidates})
	if len(next.Started) != 1 || next.Started[0].AccountID != "R-1" || len(next.AlreadyOpen) != 2 {
		t.Fatalf("after terminating %s: started %+v, already open %v; want R-1 only", first, next.Started, next.AlreadyOpen)
	}
	held, err := acts.Store.AccountReservations(context.Background(), []string{"R-1"})
	if err != nil {
		t.Fatal(err)
	}
	if r := held["R-1"]; r.ReviewID != review.ID("R-1", "2026-11-30") || r.RunID == "" {
		t.Fatalf("R-1 reservation %+v: want the new review and its run", r)
	}
}
