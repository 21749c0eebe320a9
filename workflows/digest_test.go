package workflows

import (
	"context"
	"errors"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
)

// TestDailyDigestGivesUp: a digest that keeps failing (a mail server that
// is down all day) is tried a bounded number of times and the run fails
// with the activity's error; tomorrow's run sends the queue again.
func TestDailyDigestGivesUp(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	attempts := 0
	env.RegisterActivityWithOptions(func(ctx context.Context, in DigestInput) (DigestResult, error) {
		attempts++
		if in.TimeZone != "Europe/Paris" || in.Week != "2026-11-16" {
			t.Errorf("input %+v", in)
		}
		return DigestResult{}, errors.New("send mail via smtp.example.com:587: connect: connection refused")
	}, activity.RegisterOptions{Name: ActSendDigests})
	env.ExecuteWorkflow(DailyDigest, DigestInput{Week: "2026-11-16", TimeZone: "Europe/Paris"})
	err := env.GetWorkflowError()
	if err == nil || attempts != 4 {
		t.Fatalf("attempts %d, error %v; want 4 attempts and the error", attempts, err)
	}

	env = ts.NewTestWorkflowEnvironment()
	env.RegisterActivityWithOptions(func(ctx context.Context, in DigestInput) (DigestResult, error) {
		return DigestResult{Sent: []string{"dana", "mia"}}, nil
	}, activity.RegisterOptions{Name: ActSendDigests})
	env.ExecuteWorkflow(DailyDigest, DigestInput{})
	var res DigestResult
	if err := env.GetWorkflowResult(&res); err != nil || len(res.Sent) != 2 {
		t.Errorf("result %+v, error %v", res, err)
	}
}
