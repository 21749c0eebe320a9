package fault

import (
	"fmt"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
)

// TestFaultTwoScansOfDifferentWeeks scans the same book as of two
// consecutive weeks at once, as a late scan of last week's file racing
// this week's would. Each account at risk in either week (or whose score
// jumped, when last week's scores were in first) gets exactly one
// open review (the store's reservation, taken before a review starts,
// lets only one scan open it), none is left out, and each reaches its gate.
func TestFaultTwoScansOfDifferentWeeks(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	row := track(t, "two scans of different weeks back to back (started together; embedded Temporal, SQLite)",
		"every account at risk in either week has exactly one open review, across both weeks; none for any other; each drafted and waiting, one flagged and one drafted event")
	e := newEnv(t)
	b := newBook(t, bookOptions(3000, 2, false))
	last, err := time.Parse(time.DateOnly, b.asOf)
	if err != nil {
		t.Fatal(err)
	}
	prevWeek, prevFlagged, _ := flaggedAsOf(t, b.path, last.AddDate(0, 0, -7))
	// Which scan stores its scores first is the race: when last week's
	// are in before this week's scan compares, a score that rose by
	// review.jump_points into watch opens a review too (a jump).
	jumped := jumpers(t, b.path, last)
	startWorker(t, e)
	st := openStore(t, e)

	results := make(chan scanResult, 2)
	for _, week := range []string{prevWeek, b.asOf} {
		go func() {
			out, errOut, code := starter(t, e, "", "scan", "--json", "--input", b.path, "--as-of", week)
			if code != 0 {
				t.Errorf("scan as of %s: exit %d: %s", week, code, errOut)
			}
			results <- decodeScan(t, out)
		}()
	}
	started := 0
	for range 2 {
		started += (<-results).StartedCount
	}
	either := map[string]string{}
	for a, o := range prevFlagged {
		either[a] = o
	}
	for a, o := range b.flagged {
		either[a] = o
	}
	if started < len(either) || started > len(either)+len(jumped) {
		t.Errorf("the two scans started %d reviews; %d accounts are at risk in either week and %d more may jump", started, len(either), len(jumped))
	}
	waitFor(t, 4*time.Minute, fmt.Sprintf("the %d reviews at awaiting_approval", started), func() bool {
		return countState(t, st, review.AwaitingApproval) >= started
	})
	open := openReviews(t, st)
	for acct, ids := range open {
		if _, ok := either[acct]; !ok && !jumped[acct] {
			t.Errorf("%s: open reviews %v, but it is at risk in neither week and did not jump", acct, ids)
		} else if len(ids) != 1 {
			t.Errorf("%s: %d open reviews %v, want 1", acct, len(ids), ids)
		}
	}
	lost := 0
	for acct := range either {
		if len(open[acct]) == 0 {
			lost++
			t.Errorf("%s: at risk but no open review", acct)
		}
	}
	both := 0
	for _, cycle := range []string{prevWeek, b.asOf} {
		checkEventsOnce(t, st, cycle, review.EventFlagged, review.EventDrafted)
	}
	for a := range prevFlagged {
		if _, ok := b.flagged[a]; ok {
			both++
		}
	}
	row.figure = fmt.Sprintf("%d at risk as of %s, %d as of %s, %d in both, %d jumped: %d reviews, %d lost", len(prevFlagged), prevWeek, len(b.flagged), b.asOf, both, len(jumped), started, lost)
}

// jumpers are the accounts whose score as of week rose by at least
// review.jump_points from the week before, into watch (the at-risk ones
// open a review anyway).
func jumpers(t *testing.T, path string, week time.Time) map[string]bool {
	t.Helper()
	cfg, err := config.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	_, before := scoresAsOf(t, path, week.AddDate(0, 0, -7))
	_, now := scoresAsOf(t, path, week)
	out := map[string]bool{}
	for id, a := range now {
		if p, ok := before[id]; ok && a.Tier == risk.Watch && a.Score-p.Score >= cfg.Review.JumpPoints {
			out[id] = true
		}
	}
	return out
}
