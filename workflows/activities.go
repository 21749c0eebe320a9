// Package workflows holds Churnwatch's Temporal workflows: the per-account
// review, the portfolio scan that starts reviews, and the leadership summary.
//
// Workflow code here is deterministic and short. Every stage that touches the
// world is an activity, called by name, so this package depends on the SDK
// and on plain types only (review, risk); activities.Activities implements
// the names below.
package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Activity names, the method names of activities.Activities.
const (
	ActIngest         = "Ingest"
	ActScoreChunk     = "ScoreChunk"
	ActGatherEvidence = "GatherEvidence"
	ActScoreAccount   = "ScoreAccount"
	ActDraft          = "Draft"
	ActDraftOffline   = "DraftOffline"
	ActSavePacket     = "SavePacket"
	ActRecordEvent    = "RecordEvent"
	ActNotify         = "Notify"
	ActBuildReport    = "BuildReport"
	ActStartReviews   = "StartReviews"
)

// ErrPermanentLLM is the application error type of an LLM failure that no
// retry can fix (a bad key, a bad request): the review falls back at once.
const ErrPermanentLLM = "PermanentLLMError"

// ErrInvalidInput is the application error type of input that no retry can
// fix (an unreadable file, a malformed date).
const ErrInvalidInput = "InvalidInput"

// withDefaultActivityOptions suits the store and scoring activities: quick,
// idempotent, retried with backoff for as long as it takes (a store that is
// down for an hour must not lose a decision).
func withDefaultActivityOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		// Short: a worker killed mid-activity is noticed only when this
		// passes, and these activities take milliseconds.
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        5 * time.Minute,
			NonRetryableErrorTypes: []string{ErrInvalidInput},
		},
	})
}

// withLocalActivityOptions suits pure, fast work done in the worker itself.
func withLocalActivityOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			MaximumInterval:        time.Minute,
			NonRetryableErrorTypes: []string{ErrInvalidInput},
		},
	})
}

// withLLMActivityOptions runs drafting on the LLM task queue, whose worker
// limits requests per minute. A few attempts only: the offline drafter is
// the fallback, and a CSM should not wait hours for a draft.
func withLLMActivityOptions(ctx workflow.Context, taskQueue string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           taskQueue,
		StartToCloseTimeout: 3 * time.Minute,
		HeartbeatTimeout:    30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        5 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			MaximumAttempts:        4,
			NonRetryableErrorTypes: []string{ErrPermanentLLM, ErrInvalidInput},
		},
	})
}
