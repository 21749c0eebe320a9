package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/workflows"
)

// TestNoticesWithTheWebhookDown runs a real worker whose notify.webhook_url
// points at a closed port. The reviews reach their gate, an approval
// returns and the review moves on to its action without waiting on the
// webhook; the notices wait in the outbox and, once a webhook listens on
// that port, each arrives there exactly once.
func TestNoticesWithTheWebhookDown(t *testing.T) {
	old := noticeFirstRetry
	noticeFirstRetry = 500 * time.Millisecond // then 1 s, 2 s, ...: the webhook's return is seen within seconds
	t.Cleanup(func() { noticeFirstRetry = old })
	cfg := testConfig(t, t.TempDir())
	hookAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg.Notify.WebhookURL = "http://" + hookAddr + "/hook"
	tm := addTeam(t, cfg)
	c := startWorker(t, cfg)
	res := scan(t, c, cfg, examplePath(t))
	byOwner := awaitingReviews(t, cfg, tm, res)
	id := byOwner["dana"][0]

	// Bounded, so that a review stuck behind its notices fails here
	// rather than at the test binary's timeout.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: workflows.UpdateDecide,
		Args:         []any{review.Decision{Kind: review.Approve, Actor: "dana", ConfirmedCause: "budget cut"}},
		WaitForStage: client.WorkflowUpdateStageCompleted})
	if err != nil {
		t.Fatalf("approve: %v", err)
	}
	var p review.Packet
	if err := h.Get(ctx, &p); err != nil {
		t.Fatalf("approve with the webhook down: %v", err)
	}
	waitFor(t, "the action", func() bool { return queryPacket(t, c, id).State == review.ActionAssigned })
	pending, err := tm.st.Notices(context.Background(), store.NoticeFilter{State: store.NoticePending})
	if err != nil || len(pending) < len(res.Started)+1 {
		t.Fatalf("%d notices pending (%v), want the %d reviews' flags and the action", len(pending), err, len(res.Started))
	}

	var mu sync.Mutex
	received := map[string]int{}
	l, err := net.Listen("tcp", hookAddr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		received[r.Header.Get("Idempotency-Key")]++
		mu.Unlock()
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	waitFor(t, "every notice delivered", func() bool {
		left, err := tm.st.Notices(context.Background(), store.NoticeFilter{State: store.NoticePending})
		return err == nil && len(left) == 0
	})
	all, err := tm.st.Notices(context.Background(), store.NoticeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, n := range all {
		if n.State != store.NoticeSent || received[n.Key] != 1 {
			t.Errorf("notice %s (%s to %s): %s, received %d times; want sent, once", n.Key, n.Kind, n.To, n.State, received[n.Key])
		}
	}
	if len(received) != len(all) {
		t.Errorf("the webhook received %d notices, the outbox holds %d", len(received), len(all))
	}
}
