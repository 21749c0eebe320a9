package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// DigestWorkflow is the type name of DailyDigest, which the worker's daily
// schedule starts at notify.digest_time.
const DigestWorkflow = "DailyDigest"

// ActSendDigests is the method name of the digest activity.
const ActSendDigests = "SendDigests"

// DigestInput says which digests to send.
type DigestInput struct {
	// Week, when set (YYYY-MM-DD), limits the digests to that cycle's reviews.
	Week string `json:"week,omitempty"`
	// TimeZone is the zone due times are written in (schedule.time_zone);
	// empty = UTC.
	TimeZone string `json:"time_zone,omitempty"`
}

// DigestResult names who was emailed.
type DigestResult struct {
	Sent []string `json:"sent"`
}

// DailyDigest emails every person with reviews waiting on them their
// queue. The activity resumes after the people an earlier attempt reached,
// and gives up after a few attempts: tomorrow's digest says it all again.
func DailyDigest(ctx workflow.Context, in DigestInput) (DigestResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Minute,
		ScheduleToCloseTimeout: 4 * time.Hour, // four attempts and their backoff
		HeartbeatTimeout:       5 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Minute,
			BackoffCoefficient:     2,
			MaximumInterval:        10 * time.Minute,
			MaximumAttempts:        4,
			NonRetryableErrorTypes: []string{ErrInvalidInput},
		},
	})
	var res DigestResult
	err := workflow.ExecuteActivity(ctx, ActSendDigests, in).Get(ctx, &res)
	return res, err
}
