package workflows

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/churnwatch/churnwatch/review"
)

// watchBounds records the schedule-to-close timeout of every activity the
// workflow in env runs; the returned check fails t for any activity that
// has none (an attempt that never starts, on a queue no worker polls,
// would then wait for ever) or one longer than the default bound.
func watchBounds(t *testing.T, env *testsuite.TestWorkflowEnvironment) (check func()) {
	var mu sync.Mutex
	seen := map[string]time.Duration{}
	record := func(info *activity.Info) {
		mu.Lock()
		defer mu.Unlock()
		seen[info.ActivityType.Name] = max(seen[info.ActivityType.Name], info.ScheduleToCloseTimeout)
	}
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) { record(info) })
	env.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, _ []any) { record(info) })
	return func() {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if len(seen) == 0 {
			t.Fatal("no activity ran")
		}
		for name, d := range seen {
			if d <= 0 || d > DefaultScheduleToClose {
				t.Errorf("activity %s: schedule-to-close %v, want a bound of at most %v", name, d, DefaultScheduleToClose)
			}
		}
	}
}

// TestEveryReviewActivityIsBounded runs a review through drafting by the
// LLM, reminders, escalation, approval, outreach and outcome.
func (s *ReviewSuite) TestEveryReviewActivityIsBounded() {
	check := watchBounds(s.T(), s.env)
	in := testInput()
	in.Policy.LLMTaskQueue = "churnwatch-llm"
	var rejected error
	var accepted bool
	s.decide(5*24*time.Hour, review.Decision{Kind: review.Approve, Actor: "dana", ConfirmedCause: "budget"}, &rejected, &accepted)
	s.outcome(20*24*time.Hour, review.Outcome{Kind: review.Saved, Actor: "dana", Note: "renewed"})
	s.env.ExecuteWorkflow(AccountReview, in)
	s.Equal(review.Closed, s.result().State)
	check()
}

// TestLLMQueueWithoutPollerFallsBackWithinTheBound: an LLM queue no worker
// polls never runs the drafting activity, and its attempts alone would
// never end; the schedule-to-close bound ends the wait and the review
// drafts offline. The test environment cannot hold an attempt unstarted,
// so an attempt that answers a timeout only a day later on the workflow
// clock stands in: past the bound, Temporal tries no more.
func (s *ReviewSuite) TestLLMQueueWithoutPollerFallsBackWithinTheBound() {
	calls := 0
	s.env.OnActivity(ActDraft, mock.Anything, mock.Anything).After(24 * time.Hour).
		Return(func(ctx context.Context, _ DraftRequest) (review.Draft, error) {
			calls++
			s.Equal(LLMScheduleToClose, activity.GetInfo(ctx).ScheduleToCloseTimeout)
			return review.Draft{}, temporal.NewTimeoutError(0, errors.New("no worker took the drafting task"))
		})
	in := testInput()
	in.Policy.LLMTaskQueue = "churnwatch-llm"
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(SignalDecide, review.Decision{Kind: review.Reject, Actor: "dana", Reason: "test"})
	}, 3*24*time.Hour)
	s.env.ExecuteWorkflow(AccountReview, in)
	p := s.result()
	s.Equal(1, calls, "no attempt past the schedule-to-close bound")
	s.Equal("offline", p.Draft.Drafter)
	s.Require().NotEmpty(p.Draft.Notes)
	s.True(strings.Contains(p.Draft.Notes[len(p.Draft.Notes)-1], "LLM drafter failed"), p.Draft.Notes)
}

// TestEventKeysNameTheRun: a later run reusing a review ID (after the
// namespace's retention) must not have its events taken for retries of
// the first run's.
func (s *ReviewSuite) TestEventKeysNameTheRun() {
	var runID string
	s.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		runID = info.WorkflowExecution.RunID
	})
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(SignalDecide, review.Decision{Kind: review.Reject, Actor: "dana", Reason: "test"})
	}, time.Hour)
	s.env.ExecuteWorkflow(AccountReview, testInput())
	s.result()
	s.Require().NotEmpty(runID)
	s.acts.mu.Lock()
	defer s.acts.mu.Unlock()
	s.Require().NotEmpty(s.acts.events)
	for _, e := range s.acts.events {
		s.Contains(e.Key, "#"+runID+"#", e.Key)
	}
}

func TestDailyDigestIsBounded(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	check := watchBounds(t, env)
	env.RegisterActivityWithOptions(func(ctx context.Context, in DigestInput) (DigestResult, error) {
		return DigestResult{}, nil
	}, activity.RegisterOptions{Name: ActSendDigests})
	env.ExecuteWorkflow(DailyDigest, DigestInput{})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	check()
}
