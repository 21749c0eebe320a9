package fault

import (
	"fmt"
	"testing"
	"time"
)

// TestFaultTemporalRestartMidReview runs the worker against an external
// Temporal (the Temporal CLI's dev server, persisted in a file) and kills
// that server with SIGKILL twice: while the scan's reviews are being
// drafted, and while 50 clients are deciding them through the API. Each
// time it comes back on the same file and port a few seconds later; the
// worker reconnects by itself. Every review reaches its gate, every
// decision sent (retried with its Idempotency-Key while Temporal is away)
// is recorded once and carried out.
func TestFaultTemporalRestartMidReview(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	row := track(t, "external Temporal (CLI dev server) killed -9 and restarted mid-review: while drafting, while deciding",
		"every flagged account has one review, drafted and waiting; every decision sent meanwhile answered 200 (held, or refused and resent with its key), recorded once (one reviewed, one action_assigned event), at action_assigned")
	cli := needEnv(t, "CHURNWATCH_TEST_TEMPORAL_CLI")
	tmp := startTemporalDev(t, cli)
	e := newEnv(t)
	e.set("CHURNWATCH_TEMPORAL_ADDRESS", tmp.addr())
	b := newBook(t, bookOptions(1500, 47, false))
	tokens := addOwners(t, e, 4)
	startWorker(t, e)
	st := openStore(t, e)

	res := scan(t, e, []string{b.path})
	// Mid-drafting: the scan has started the reviews; they are on their
	// way to the gate when the server dies.
	drafting := len(b.flagged) - max(0, countState(t, st, "awaiting_approval"))
	tmp.kill()
	time.Sleep(3 * time.Second) // the outage's length, not an assertion
	tmp.start(t)
	restarted := time.Now()
	byOwner := awaitGate(t, st, res.AsOf, b.flagged, 4*time.Minute)
	t.Logf("every review at its gate %s after the restart", time.Since(restarted).Round(time.Second))

	// Mid-decision: the server dies while the clients decide.
	jobs := jobsOf(byOwner, 0)
	done := make(chan []answer)
	go func() { done <- decideAll(e, tokens, jobs, 20, 3*time.Minute) }()
	waitFor(t, time.Minute, "the first decisions", func() bool { return countState(t, st, "action_assigned") > 0 })
	before := countState(t, st, "action_assigned")
	tmp.kill()
	time.Sleep(3 * time.Second)
	tmp.start(t)
	restarted = time.Now()
	answers := <-done
	t.Logf("every decision answered %s after the restart", time.Since(restarted).Round(time.Second))
	retried := checkAnswers(t, answers)
	awaitDecided(t, st, res.AsOf, jobs, 4*time.Minute)
	if before >= len(jobs) {
		t.Logf("every decision was in before the kill: the fault missed the decisions")
	}
	row.figure = fmt.Sprintf("%d reviews, %d still drafting at the first kill; %d of %d decided at the second, %d requests retried", len(b.flagged), drafting, before, len(jobs), retried)
}
