// Package workflows holds Churnwatch's Temporal workflows: the per-account
// review, the portfolio scan that starts reviews, and the leadership summary.
//
// Workflow code here is deterministic and short. Every stage that touches the
// world is an activity, called by name, so this package depends on the SDK
// and on plain types only (review, risk, snapshot); package activities
// implements the names below, one struct per concern. Each workflow's
// messages (its input and result, its activities' requests and results,
// its update, signal and query names) are beside it: review_messages.go,
// scan_messages.go, summary.go, digest.go, outreach.go.
package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Activity names: the method names of the activities package's structs,
// which a worker registers under them, and the names recorded histories
// hold. They never change.
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

// DefaultScheduleToClose bounds every store and scoring activity, retries
// included: long enough to ride out a database outage, short of for ever.
const DefaultScheduleToClose = 24 * time.Hour

// LLMScheduleToClose bounds LLM drafting, retries and the wait for a worker
// on the LLM queue included; past it the review drafts offline.
const LLMScheduleToClose = 10 * time.Minute

// ErrPermanentLLM is the application error type of an LLM failure that no
// retry can fix (a bad key, a bad request): the review falls back at once.
const ErrPermanentLLM = "PermanentLLMError"

// ErrInvalidInput is the application error type of input that no retry can
// fix (an unreadable file, a malformed date).
const ErrInvalidInput = "InvalidInput"

// ErrPayloadTooLarge is the failure type the SDK gives an activity whose
// input or result is over the namespace's payload limit (2 MB by default):
// the same data would be refused again, so it is never retried.
const ErrPayloadTooLarge = "payloadSizeError"

// withDefaultActivityOptions suits the store and scoring activities: quick,
// idempotent, retried with backoff through any outage short of a day (a
// store that is down for an hour must not lose a decision).
func withDefaultActivityOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		// Short: a worker killed mid-activity is noticed only when this
		// passes, and these activities take milliseconds.
		StartToCloseTimeout: 30 * time.Second,
		// Bounded all the same: an activity no worker can ever run (its
		// task queue without pollers) fails the workflow, which the next
		// scan then sees as no longer open, rather than waiting for ever.
		ScheduleToCloseTimeout: DefaultScheduleToClose,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        5 * time.Minute,
			NonRetryableErrorTypes: []string{ErrInvalidInput, ErrPayloadTooLarge},
		},
	})
}

// withLocalActivityOptions suits pure, fast work done in the worker itself.
func withLocalActivityOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 10 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			MaximumInterval:        time.Minute,
			NonRetryableErrorTypes: []string{ErrInvalidInput, ErrPayloadTooLarge},
		},
	})
}

// withLLMActivityOptions runs drafting on the LLM task queue, whose worker
// limits requests per minute. A few attempts only: the offline drafter is
// the fallback, and a CSM should not wait hours for a draft. The attempts
// alone bound nothing when no worker polls the LLM queue (an attempt that
// never starts never ends): LLMScheduleToClose does.
func withLLMActivityOptions(ctx workflow.Context, taskQueue string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              taskQueue,
		StartToCloseTimeout:    3 * time.Minute,
		ScheduleToCloseTimeout: LLMScheduleToClose,
		HeartbeatTimeout:       30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        5 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			MaximumAttempts:        4,
			NonRetryableErrorTypes: []string{ErrPermanentLLM, ErrInvalidInput, ErrPayloadTooLarge},
		},
	})
}
