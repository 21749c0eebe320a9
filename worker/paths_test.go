package main

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/workflows"
)

// workerStore opens the worker's own decision record, to watch what its
// reviews saved.
func workerStore(t *testing.T, dsn, dataDir string) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dsn, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// eventKinds counts a review's recorded events by kind.
func eventKinds(t *testing.T, st store.Store, id string) map[review.EventKind]int {
	t.Helper()
	events, err := st.Events(context.Background(), store.EventFilter{ReviewID: id})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[review.EventKind]int{}
	for _, e := range events {
		kinds[e.Kind]++
	}
	return kinds
}

// TestLateDecisionEscalatesToLeaders runs reviews with SLAs of seconds: an
// undecided review reminds its owner, escalates to her manager, then tells
// the leaders and keeps reminding, and is never decided by default; the
// owner's approval still goes through afterwards.
func TestLateDecisionEscalatesToLeaders(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.Review.SLACritical, cfg.Review.SLAElevated, cfg.Review.ReminderGrace = 2*time.Second, 2*time.Second, 2*time.Second
	cfg.Review.DefaultManager, cfg.Review.Leaders = "mia", []string{"lee"}
	c := startWorker(t, cfg)
	st := workerStore(t, cfg.Store.DSN, cfg.DataDir)
	res := scan(t, c, cfg, examplePath(t))
	if len(res.Started) == 0 {
		t.Fatal("no review started")
	}
	owner := res.Started[0].Owner
	id := review.ID(res.Started[0].AccountID, res.AsOf)

	var p review.Packet
	waitForWithin(t, 2*time.Minute, "the leaders' escalation", func() bool {
		var err error
		p, err = st.Packet(context.Background(), id)
		return err == nil && p.Escalation.Level == 3
	})
	e := p.Escalation
	if !slices.Equal(e.Path, []string{owner, "mia", "lee"}) || len(e.RemindedAt) == 0 || e.EscalatedTo != "mia" ||
		e.EscalatedAt == nil || !slices.Equal(e.Leaders, []string{"lee"}) || e.LeadersAt == nil || e.LeadersAt.Before(*e.EscalatedAt) {
		t.Fatalf("escalation at level 3: %+v", e)
	}
	// After the leaders, the owner and the manager are reminded again.
	waitFor(t, "a reminder after the leaders' notice", func() bool { return eventKinds(t, st, id)[review.EventReminded] >= 2 })
	if p := queryPacket(t, c, id); p.Decision != nil || p.State != review.AwaitingApproval {
		t.Fatalf("an escalated review was decided without anybody: %s %+v", p.State, p.Decision)
	}
	if k := eventKinds(t, st, id); k[review.EventEscalated] != 2 || k[review.EventReviewed] != 0 {
		t.Fatalf("events of the escalated review: %v, want 2 escalated (manager, leaders) and no decision", k)
	}

	if _, err := update(t, c, id, workflows.UpdateDecide, review.Decision{Kind: review.Approve, Actor: owner}); err != nil {
		t.Fatalf("approving the escalated review: %v", err)
	}
	waitFor(t, "the escalated review's action", func() bool {
		p, err := st.Packet(context.Background(), id)
		return err == nil && p.State == review.ActionAssigned
	})
	if *recordHistories {
		writeHistory(t, c, id, "../workflows/testdata/review_escalated.json")
	}
}

// TestDecisionSignalAndProgress decides one review with the fire-and-forget
// decide signal (a stranger's first, which is ignored), and takes another
// through approval, progress and an outcome to its end.
func TestDecisionSignalAndProgress(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	c := startWorker(t, cfg)
	st := workerStore(t, cfg.Store.DSN, cfg.DataDir)
	ctx := context.Background()
	res := scan(t, c, cfg, examplePath(t))
	if len(res.Started) < 2 {
		t.Fatalf("want two reviews, started %d", len(res.Started))
	}
	signalled, tracked := res.Started[0], res.Started[1]
	sid, tid := review.ID(signalled.AccountID, res.AsOf), review.ID(tracked.AccountID, res.AsOf)
	for _, id := range []string{sid, tid} {
		waitFor(t, "the drafts of "+id, func() bool { return queryPacket(t, c, id).Draft != nil })
	}

	// Signals are taken in order: had the stranger's been accepted, the
	// owner's would be refused as a second decision.
	for _, actor := range []string{"mallory", signalled.Owner} {
		if err := c.SignalWorkflow(ctx, sid, "", workflows.SignalDecide, review.Decision{Kind: review.Approve, Actor: actor}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the signalled review's action", func() bool { return queryPacket(t, c, sid).State == review.ActionAssigned })
	if p := queryPacket(t, c, sid); p.Decision == nil || p.Decision.Actor != signalled.Owner || p.Decision.Kind != review.Approve {
		t.Fatalf("the signalled decision: %+v", p.Decision)
	}

	if _, err := update(t, c, tid, workflows.UpdateDecide, review.Decision{Kind: review.Approve, Actor: tracked.Owner}); err != nil {
		t.Fatalf("approve: %v", err)
	}
	waitFor(t, "the tracked review's action", func() bool { return queryPacket(t, c, tid).State == review.ActionAssigned })
	if _, err := update(t, c, tid, workflows.UpdateProgress, review.Progress{Kind: review.EventSaved, Actor: tracked.Owner}); err == nil {
		t.Error("an outcome passed as progress was accepted")
	}
	for _, k := range []review.EventKind{review.EventOutreachSent, review.EventCustomerResponded} {
		if _, err := update(t, c, tid, workflows.UpdateProgress, review.Progress{Kind: k, Actor: tracked.Owner, Note: "by phone"}); err != nil {
			t.Fatalf("progress %s: %v", k, err)
		}
	}
	p, err := update(t, c, tid, workflows.UpdateOutcome, review.Outcome{Kind: review.StillAtRisk, Actor: tracked.Owner, Note: "renewal undecided"})
	if err != nil || p.State != review.Closed || p.Outcome == nil || p.Outcome.Kind != review.StillAtRisk {
		t.Fatalf("outcome: %s %+v (%v)", p.State, p.Outcome, err)
	}
	if err := c.GetWorkflow(ctx, tid, "").Get(ctx, nil); err != nil {
		t.Fatalf("the tracked review did not end: %v", err)
	}
	k := eventKinds(t, st, tid)
	for _, kind := range []review.EventKind{review.EventOutreachSent, review.EventCustomerResponded, review.EventStillAtRisk} {
		if k[kind] != 1 {
			t.Errorf("%s events: %d, want 1 (%v)", kind, k[kind], k)
		}
	}

	if *recordHistories {
		writeHistory(t, c, sid, "../workflows/testdata/review_signal_decision.json")
		writeHistory(t, c, tid, "../workflows/testdata/review_progress_outcome.json")
	}
}
