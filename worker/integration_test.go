package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/churnwatch/churnwatch/activities"
	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/inbox"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/snapshot"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/temporalclient"
	"github.com/churnwatch/churnwatch/temporalserver"
	"github.com/churnwatch/churnwatch/workflows"
)

var recordHistories = flag.Bool("record-histories", false, "write the histories of the integration test's workflows to ../workflows/testdata for the replay test")

// freePort returns a loopback port that is free now.
// freePort is a port no outgoing connection can take before the test binds
// it (see temporalserver.FreePort).
func freePort(t testing.TB) int {
	t.Helper()
	p, err := temporalserver.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// testConfig is the embedded default in a temporary data dir, on free ports.
func testConfig(t testing.TB, dataDir string) config.Config {
	t.Helper()
	cfg, err := config.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = dataDir
	cfg.Temporal.Port = freePort(t)
	cfg.HTTP.Addr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg.Schedule.Enabled = false
	cfg.Temporal.UIPort = 0
	cfg.Log.Level = "error"
	return cfg
}

// startWorker runs the worker (embedded server included) until the test ends.
func startWorker(t testing.TB, cfg config.Config) client.Client {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = newLogger(os.Stderr, config.Log{Level: "warn", Format: "text"})
	}
	go func() { done <- run(ctx, cfg, logger, func() { close(ready) }) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("worker did not start: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("worker did not start within 2 minutes")
	}
	c, err := temporalclient.Dial(ctx, cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
	return c
}

func examplePath(t testing.TB) string {
	t.Helper()
	p, err := filepath.Abs("../examples/portfolio.csv")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func scan(t testing.TB, c client.Client, cfg config.Config, files ...string) workflows.ScanResult {
	t.Helper()
	return scanWithID(t, c, cfg, fmt.Sprintf("scan/test-%d", time.Now().UnixNano()), files...)
}

func scanWithID(t testing.TB, c client.Client, cfg config.Config, id string, files ...string) workflows.ScanResult {
	t.Helper()
	ctx := context.Background()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: cfg.Temporal.TaskQueue},
		workflows.ScanWorkflow, cfg.ScanInput(files, ""))
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.ScanResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("scan: %v", err)
	}
	return res
}

func queryPacket(t testing.TB, c client.Client, id string) review.Packet {
	t.Helper()
	v, err := c.QueryWorkflow(context.Background(), id, "", workflows.QueryPacket)
	if err != nil {
		t.Fatalf("query %s: %v", id, err)
	}
	var p review.Packet
	if err := v.Get(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitFor polls cond until it holds or a minute passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	waitForWithin(t, time.Minute, what, cond)
}

// waitForWithin polls cond until it holds or d passes.
func waitForWithin(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func update(t testing.TB, c client.Client, id, name string, arg any) (review.Packet, error) {
	t.Helper()
	h, err := c.UpdateWorkflow(context.Background(), client.UpdateWorkflowOptions{
		WorkflowID: id, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return review.Packet{}, err
	}
	var p review.Packet
	err = h.Get(context.Background(), &p)
	return p, err
}

// TestEmbeddedScanApproveOutcome drives the whole pipeline through the real
// client against the embedded server: scan → reviews at the gate → approve
// → outcome → summary, and a rescan that starts nothing new.
func TestEmbeddedScanApproveOutcome(t *testing.T) {
	dataDir := t.TempDir()
	cfg := testConfig(t, dataDir)
	c := startWorker(t, cfg)
	ctx := context.Background()

	res := scanWithID(t, c, cfg, "scan/first", examplePath(t))
	if res.Accounts != 50 {
		t.Fatalf("scanned %d accounts, want the 50 of the sample book", res.Accounts)
	}
	// The reviews are not the scan's children: a workflow may have at most
	// 2,000 pending children, and a large book has more at-risk accounts.
	iter := c.GetWorkflowHistory(ctx, "scan/first", "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		e, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e.GetEventType() == enums.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED {
			t.Fatalf("the scan started a review as its child: %v", e)
		}
	}
	if res.StartedCount != len(res.Started) || res.StartedCount == 0 {
		t.Fatalf("started %d, listed %d", res.StartedCount, len(res.Started))
	}
	// The scan's tiers are the score report's.
	batch, err := snapshot.ReadFiles([]string{examplePath(t)})
	if err != nil {
		t.Fatal(err)
	}
	want := map[risk.Tier]int{}
	for _, a := range cfg.Risk.NewReport(batch, time.Time{}).Accounts {
		want[a.Tier]++
	}
	for _, tier := range risk.Tiers {
		if res.Tiers[tier] != want[tier] {
			t.Errorf("scan counts %d %s accounts, starter score %d", res.Tiers[tier], tier, want[tier])
		}
	}
	atRisk := res.Tiers[risk.Critical] + res.Tiers[risk.Elevated]
	if atRisk == 0 || len(res.Started) != atRisk {
		t.Fatalf("started %d reviews for %d at-risk accounts (tiers %v)", len(res.Started), atRisk, res.Tiers)
	}

	first := res.Started[0]
	id := review.ID(first.AccountID, res.AsOf)
	waitFor(t, "the first review's drafts", func() bool { return queryPacket(t, c, id).Draft != nil })
	p := queryPacket(t, c, id)
	if p.State != review.AwaitingApproval || len(p.Assessment.Signals) == 0 || p.Draft.Brief == "" || p.Draft.Outreach.Body == "" {
		t.Fatalf("review at the gate lacks its brief or evidence: %+v", p)
	}

	// Visibility lists every started review through its search attributes.
	waitFor(t, "reviews in visibility", func() bool {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("WorkflowType = '%s' AND %s = '%s'", workflows.ReviewWorkflow, workflows.AttrReviewState, review.AwaitingApproval),
		})
		return err == nil && len(resp.Executions) == len(res.Started)
	})

	// The gate refuses a stranger, then takes the owner's approval.
	if _, err := update(t, c, id, workflows.UpdateDecide, review.Decision{Kind: review.Approve, Actor: "mallory"}); err == nil {
		t.Fatal("a non-owner's approval was accepted")
	}
	p, err = update(t, c, id, workflows.UpdateDecide, review.Decision{Kind: review.Approve, Actor: first.Owner, ConfirmedCause: "budget cut after reorg"})
	if err != nil {
		t.Fatalf("approve: %v", err)
	}
	if p.State == review.AwaitingApproval || p.Decision == nil {
		t.Fatalf("approved review still at the gate: %s", p.State)
	}
	waitFor(t, "the action", func() bool { return queryPacket(t, c, id).State == review.ActionAssigned })
	p, err = update(t, c, id, workflows.UpdateOutcome, review.Outcome{Kind: review.Saved, Actor: first.Owner, Note: "renewed for 2 years"})
	if err != nil {
		t.Fatalf("outcome: %v", err)
	}
	if p.State != review.Closed {
		t.Fatalf("state after outcome: %s", p.State)
	}

	// A second account is rejected: a candidate false positive.
	second := review.ID(res.Started[1].AccountID, res.AsOf)
	waitFor(t, "the second review's drafts", func() bool { return queryPacket(t, c, second).Draft != nil })
	if _, err := update(t, c, second, workflows.UpdateDecide, review.Decision{Kind: review.Reject, Actor: res.Started[1].Owner, Reason: "seasonal dip, known"}); err != nil {
		t.Fatalf("reject: %v", err)
	}

	// Rescanning the same input starts nothing new.
	again := scan(t, c, cfg, examplePath(t))
	if len(again.Started) != 0 {
		t.Fatalf("rescan started %d reviews: %+v", len(again.Started), again.Started)
	}

	// The decision record holds one event per key, and the summary agrees.
	st, err := store.Open(ctx, "", dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	events, err := st.Events(ctx, store.EventFilter{ReviewID: id})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[review.EventKind]int{}
	for _, e := range events {
		kinds[e.Kind]++
	}
	for _, k := range []review.EventKind{review.EventFlagged, review.EventReviewed, review.EventRiskConfirmed, review.EventActionAssigned, review.EventSaved} {
		if kinds[k] != 1 {
			t.Errorf("%s events of the approved review: %d, want 1 (%v)", k, kinds[k], kinds)
		}
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "summary/test", TaskQueue: cfg.Temporal.TaskQueue}, workflows.SummaryWorkflow, workflows.SummaryInput{})
	if err != nil {
		t.Fatal(err)
	}
	var rep workflows.Report
	if err := run.Get(ctx, &rep); err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Tiers map[string]int `json:"tiers"`
	}
	js, err := st.ReportPart(ctx, rep.ID, store.ReportSummaryJSON)
	if err != nil {
		t.Fatalf("the summary's report %q: %v", rep.ID, err)
	}
	if err := json.Unmarshal(js, &sum); err != nil {
		t.Fatal(err)
	}
	for tier, n := range res.Tiers {
		if sum.Tiers[string(tier)] != n {
			t.Errorf("summary says %d %s accounts, the scan %d", sum.Tiers[string(tier)], tier, n)
		}
	}
	if *recordHistories {
		writeHistory(t, c, id, "../workflows/testdata/review_approved.json")
		writeHistory(t, c, second, "../workflows/testdata/review_rejected.json")
		writeHistory(t, c, "summary/test", "../workflows/testdata/summary.json")
		writeHistory(t, c, "scan/first", "../workflows/testdata/scan.json")
	}
}

// TestStartReviewsResumesAndNeverStartsTwice drives the StartReviews
// activity against the embedded server: a retry resumes after what its
// heartbeat reported, and a second run finds every review already started
// (review IDs are never reused). The reviews go to a queue no worker
// polls, so they start and wait.
func TestStartReviewsResumesAndNeverStartsTwice(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	c := startWorker(t, cfg)
	acts := &activities.ScanActivities{Temporal: c, TaskQueue: "nobody-polls", Store: openTestStore(t)}
	var ts testsuite.WorkflowTestSuite
	candidates := []workflows.Candidate{
		{AccountID: "S-1", Owner: "dana", Tier: risk.Critical, Score: 90},
		{AccountID: "S-2", Owner: "dana", Tier: risk.Elevated, Score: 50},
		{AccountID: "S-3", Owner: "li.wei", Tier: risk.Elevated, Score: 45},
	}
	req := workflows.StartReviewsRequest{Cycle: "2026-11-16", Candidates: candidates}
	run := func(resume *workflows.StartReviewsResult) workflows.StartReviewsResult {
		t.Helper()
		env := ts.NewTestActivityEnvironment()
		env.RegisterActivity(acts)
		if resume != nil {
			env.SetHeartbeatDetails(*resume)
		}
		v, err := env.ExecuteActivity(workflows.ActStartReviews, req)
		if err != nil {
			t.Fatal(err)
		}
		var res workflows.StartReviewsResult
		if err := v.Get(&res); err != nil {
			t.Fatal(err)
		}
		return res
	}

	// An earlier attempt reported S-1 before it failed: S-1 is not tried again.
	first := run(&workflows.StartReviewsResult{Started: candidates[:1]})
	if len(first.Started) != 3 || len(first.AlreadyOpen) != 0 {
		t.Fatalf("resumed run: %+v", first)
	}
	for _, id := range []string{"S-1", "S-2", "S-3"} {
		_, err := c.DescribeWorkflowExecution(context.Background(), review.ID(id, "2026-11-16"), "")
		if id == "S-1" && err == nil {
			t.Errorf("the resumed run started S-1, which its heartbeat said was done")
		}
		if id != "S-1" && err != nil {
			t.Errorf("review of %s: %v", id, err)
		}
	}

	again := run(nil)
	if len(again.Started) != 1 || again.Started[0].AccountID != "S-1" || len(again.AlreadyOpen) != 2 {
		t.Fatalf("second run: started %+v, already open %v; want only S-1 new", again.Started, again.AlreadyOpen)
	}
	if again := run(nil); len(again.Started) != 0 || len(again.AlreadyOpen) != 3 {
		t.Fatalf("third run started %+v", again.Started)
	}
}

// TestSnapshotUploadScans pushes the sample book to the worker's
// /api/snapshots with ?scan=now, as an export job would: the file is kept
// in the inbox, the scan runs and starts the reviews. Without the token
// nothing is taken, and a worker without a configured token has no such
// endpoint.
func TestSnapshotUploadScans(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.HTTP.APIToken = "test-token-0123456789"
	c := startWorker(t, cfg)
	body, err := os.ReadFile(examplePath(t))
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + cfg.HTTP.Addr + "/api/snapshots?name=week47.csv&scan=now"
	post := func(token string) (*http.Response, inbox.Receipt) {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var rec inbox.Receipt
		json.NewDecoder(resp.Body).Decode(&rec)
		return resp, rec
	}
	if resp, _ := post("not-the-token"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a wrong token: %s", resp.Status)
	}
	resp, rec := post(cfg.HTTP.APIToken)
	if resp.StatusCode != http.StatusAccepted || rec.Rows != 600 || rec.ScanID == "" || rec.Upload == "" {
		t.Fatalf("upload: %s %+v", resp.Status, rec)
	}
	var res workflows.ScanResult
	if err := c.GetWorkflow(context.Background(), rec.ScanID, "").Get(context.Background(), &res); err != nil {
		t.Fatal(err)
	}
	if res.Accounts != 50 || res.StartedCount == 0 {
		t.Fatalf("the uploaded book's scan: %d accounts, %d reviews started", res.Accounts, res.StartedCount)
	}

	plain := testConfig(t, t.TempDir())
	startWorker(t, plain)
	r, err := http.Post("http://"+plain.HTTP.Addr+"/api/snapshots?name=w.csv", "text/csv", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusNotFound && r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("a worker without http.api_token took an upload: %s", r.Status)
	}
}
