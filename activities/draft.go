package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/churnwatch/churnwatch/draft"
	"github.com/churnwatch/churnwatch/metrics"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/workflows"
)

// DraftActivities write a review's drafts: Draft through the LLM, on the
// LLM task queue (the only activity its worker registers), and
// DraftOffline, the deterministic default and fallback, on the main queue.
type DraftActivities struct {
	// LLM drafts through an OpenAI-compatible endpoint, with guardrails; nil
	// when no endpoint is configured (the LLM queue then has no worker).
	LLM *draft.Guarded
	// Offline is the deterministic drafter: the default and the fallback.
	Offline      *draft.Offline
	CSMLanguage  string
	CalendarLink string
	// Metrics records the drafts' churnwatch_ series; nil records nothing.
	Metrics *metrics.Metrics
}

func (a *DraftActivities) draftRequest(in workflows.DraftRequest) draft.Request {
	return draft.Request{
		ReviewID:     in.ReviewID,
		Owner:        in.Owner,
		Assessment:   in.Assessment,
		CSMLanguage:  a.CSMLanguage,
		CalendarLink: a.CalendarLink,
		Manager:      in.Manager,
	}
}

// Draft writes the review's drafts through the LLM, with guardrails. It runs
// on the LLM task queue, whose worker limits requests per minute. Transient
// failures are returned for Temporal to retry (a 429 after its Retry-After);
// a bad key or bad request is not retried, and the workflow drafts offline.
func (a *DraftActivities) Draft(ctx context.Context, in workflows.DraftRequest) (review.Draft, error) {
	if a.LLM == nil {
		err := fmt.Errorf("no LLM is configured on this worker")
		return review.Draft{}, temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrPermanentLLM, err)
	}
	// The request blocks while the model writes; heartbeat meanwhile so a
	// dead worker is noticed long before the start-to-close timeout.
	stop := heartbeatEvery(ctx, 10*time.Second)
	defer stop()
	start := time.Now()
	d, err := a.LLM.Draft(ctx, a.draftRequest(in))
	a.Metrics.LLMDraft(d, err, time.Since(start))
	if err == nil {
		return d, nil
	}
	// Only the scrubbed message goes on, never err's chain: Temporal keeps
	// every error in the chain in the workflow's history, and the client's
	// errors may echo the API key or Authorization header.
	// (The drafter's own errors have the key out already; this takes out
	// any other bearer token or key-like text.)
	msg := draft.ScrubSecrets(err.Error())
	if wait, ok := draft.RetryAfter(err); ok {
		return review.Draft{}, temporal.NewApplicationErrorWithOptions(msg, "RateLimited", temporal.ApplicationErrorOptions{NextRetryDelay: wait})
	}
	if draft.IsPermanent(err) {
		return review.Draft{}, temporal.NewNonRetryableApplicationError(msg, workflows.ErrPermanentLLM, nil)
	}
	return review.Draft{}, temporal.NewApplicationError("draft "+in.ReviewID+": "+msg, "LLMError")
}

// DraftOffline writes the deterministic offline drafts; with a fallback
// reason, the draft says visibly why the LLM's was not used.
func (a *DraftActivities) DraftOffline(ctx context.Context, in workflows.DraftRequest) (_ review.Draft, err error) {
	defer func(start time.Time) { a.Metrics.DraftDone(metrics.DrafterOffline, time.Since(start), err) }(time.Now())
	req := a.draftRequest(in)
	if in.FallbackReason != "" {
		if a.LLM != nil {
			return a.LLM.Fallback(ctx, req, errors.New(in.FallbackReason)), nil
		}
		// The LLM worker and this one are configured differently: say so.
		d, err := a.Offline.Draft(ctx, req)
		if err != nil {
			return review.Draft{}, fmt.Errorf("offline draft %s: %w", in.ReviewID, err)
		}
		d.Notes = append([]string{"The LLM draft was not available (" + in.FallbackReason + "); the offline draft is used instead."}, d.Notes...)
		return d, nil
	}
	d, err := a.Offline.Draft(ctx, req)
	if err != nil {
		return review.Draft{}, fmt.Errorf("offline draft %s: %w", in.ReviewID, err)
	}
	return d, nil
}
