package fault

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/store"
)

// openStore opens e's decision record beside the running worker, as the
// starter's users commands do.
func openStore(t testing.TB, e *env) store.Store {
	t.Helper()
	st, err := store.Open(ctx(t), e.dsn, e.dataDir)
	if err != nil {
		t.Fatalf("open the decision record: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// countState is how many reviews the record holds in state, every tier.
// A read that fails (the database restarting) counts as -1.
func countState(t testing.TB, st store.Store, state review.State) int {
	counts, err := st.ReviewCounts(ctx(t))
	if err != nil {
		return -1
	}
	n := 0
	for _, c := range counts[state] {
		n += c
	}
	return n
}

// awaitGate waits until every flagged account's review of cycle waits for
// its owner with its drafts (nothing stuck), then checks that each account
// has exactly that one review and the record one flagged and one drafted
// event per review (nothing lost, nothing doubled). It returns the
// reviews by owner.
func awaitGate(t testing.TB, st store.Store, cycle string, flagged map[string]string, within time.Duration) map[string][]string {
	t.Helper()
	if len(flagged) == 0 {
		t.Fatal("the book flags no account: nothing to check")
	}
	waitFor(t, within, fmt.Sprintf("the %d reviews of %s at awaiting_approval", len(flagged), cycle), func() bool {
		return countState(t, st, review.AwaitingApproval) >= len(flagged)
	})
	packets, err := st.Packets(ctx(t), store.PacketFilter{Cycle: cycle})
	if err != nil {
		t.Fatal(err)
	}
	byOwner := map[string][]string{}
	seen := map[string]int{}
	for _, p := range packets {
		seen[p.AccountID]++
		if _, ok := flagged[p.AccountID]; !ok {
			t.Errorf("%s: a review of an account the model does not flag", p.ReviewID)
			continue
		}
		if p.State != review.AwaitingApproval || p.Draft == nil || p.Draft.Brief == "" || p.Draft.Outreach.Body == "" {
			t.Errorf("%s: %s, drafts %v; want awaiting_approval with a brief and an outreach draft", p.ReviewID, p.State, p.Draft != nil)
		}
		byOwner[p.Owner] = append(byOwner[p.Owner], p.ReviewID)
	}
	lost := 0
	for acct := range flagged {
		if seen[acct] == 0 {
			lost++
			if lost <= 10 {
				t.Errorf("%s: flagged but no review of %s", acct, cycle)
			}
		}
	}
	for acct, n := range seen {
		if n > 1 {
			t.Errorf("%s: %d reviews of %s", acct, n, cycle)
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d flagged accounts have no review", lost, len(flagged))
	}
	checkEventsOnce(t, st, cycle, review.EventFlagged, review.EventDrafted)
	for _, ids := range byOwner {
		sort.Strings(ids)
	}
	return byOwner
}

// checkEventsOnce fails t unless every review of cycle that has an event
// of each kind has exactly one (a retried activity or a replayed workflow
// must not measure twice).
func checkEventsOnce(t testing.TB, st store.Store, cycle string, kinds ...review.EventKind) map[string]map[review.EventKind]int {
	t.Helper()
	events, err := st.Events(ctx(t), store.EventFilter{Kinds: kinds})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]map[review.EventKind]int{}
	for _, e := range events {
		if !strings.HasSuffix(e.ReviewID, "/"+cycle) {
			continue
		}
		if count[e.ReviewID] == nil {
			count[e.ReviewID] = map[review.EventKind]int{}
		}
		count[e.ReviewID][e.Kind]++
	}
	doubled := 0
	for id, byKind := range count {
		for k, n := range byKind {
			if n > 1 {
				doubled++
				if doubled <= 10 {
					t.Errorf("%s: %d %s events, want 1", id, n, k)
				}
			}
		}
	}
	if doubled > 0 {
		t.Errorf("%d events doubled", doubled)
	}
	return count
}

// openReviews counts the reviews of each account that are still open
// (neither rejected nor closed), across every cycle.
func openReviews(t testing.TB, st store.Store) map[string][]string {
	t.Helper()
	packets, err := st.Packets(ctx(t), store.PacketFilter{})
	if err != nil {
		t.Fatal(err)
	}
	open := map[string][]string{}
	for _, p := range packets {
		if p.State != review.Rejected && p.State != review.Closed {
			open[p.AccountID] = append(open[p.AccountID], p.ReviewID)
		}
	}
	return open
}
