package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/workflows"
)

// startingGrace is how long a reservation without a run is taken for a
// start under way (StartReviews reserves, then starts): longer than one
// StartReviews attempt. Past it, a reservation whose workflow cannot be
// found is released.
const startingGrace = 15 * time.Minute

// startReview starts candidate c's review of cycle unless its account
// already has an open review, of this cycle or another: it reserves the
// account first (store.Reservations), so two scans at once never both
// start one, then starts the workflow and records its run. A review ID
// already used (a packet saved under it, even one the namespace's
// retention has forgotten) is never started again.
func (a *ScanActivities) startReview(ctx context.Context, c workflows.Candidate, cycle string, policy review.Policy) (bool, error) {
	id := review.ID(c.AccountID, cycle)
	if _, err := a.Store.Packet(ctx, id); err == nil {
		return false, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return false, fmt.Errorf("look up review %s: %w", id, err)
	}
	if reserved, err := a.reserve(ctx, store.Reservation{AccountID: c.AccountID, ReviewID: id, Cycle: cycle, ReservedAt: time.Now().UTC()}); err != nil || !reserved {
		return false, err
	}
	run, err := a.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                a.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		// Without it the client hands back the existing run as if new.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		TypedSearchAttributes:                    workflows.ReviewSearchAttributes(c),
	}, workflows.ReviewWorkflow, workflows.NewReviewInput(c, cycle, policy))
	switch {
	case err == nil:
		return true, a.Store.SetReservationRun(ctx, c.AccountID, id, run.GetRunID())
	case temporal.IsWorkflowExecutionAlreadyStartedError(err):
		// Started by an earlier attempt, or closed within the retention:
		// keep the account held only while that run runs.
		_, err := a.liveHolder(ctx, store.Reservation{AccountID: c.AccountID, ReviewID: id, Cycle: cycle})
		return false, err
	default:
		// The reservation stays: the start may have happened. A retry
		// reserves it again; if none comes, a later scan finds no
		// workflow behind it and releases it.
		return false, fmt.Errorf("start review of %s: %w", c.AccountID, err)
	}
}

// reserve reserves r's account for its review. An account held by a review
// whose workflow no longer runs is released and reserved once more.
func (a *ScanActivities) reserve(ctx context.Context, r store.Reservation) (bool, error) {
	held, reserved, err := a.Store.ReserveAccount(ctx, r)
	if err != nil || reserved {
		return reserved, err
	}
	if open, err := a.liveHolder(ctx, held); err != nil || open != "" {
		return false, err
	}
	_, reserved, err = a.Store.ReserveAccount(ctx, r)
	return reserved, err
}

// openReview returns the ID of the account's review that is still open, if
// any: one account has at most one open review, whatever the cycle. It is
// the review holding the account's reservation while its workflow runs.
func (a *ScanActivities) openReview(ctx context.Context, accountID string) (string, error) {
	held, err := a.Store.AccountReservations(ctx, []string{accountID})
	if err != nil {
		return "", fmt.Errorf("look up the open review of %s: %w", accountID, err)
	}
	r, ok := held[accountID]
	if !ok {
		return "", nil
	}
	return a.liveHolder(ctx, r)
}

// liveHolder returns r's review ID while its workflow runs. Otherwise it
// releases the account and returns "": a review terminated, failed or
// timed out never ran the code that releases it when it closes.
func (a *ScanActivities) liveHolder(ctx context.Context, r store.Reservation) (string, error) {
	running, err := a.reviewRunning(ctx, r)
	if err != nil || running {
		return r.ReviewID, err
	}
	if err := a.Store.ReleaseAccount(ctx, r.AccountID, r.ReviewID); err != nil {
		return "", err
	}
	logOr(a.Logger).Warn("released the account of a review that no longer runs", "account_id", r.AccountID, "review_id", r.ReviewID, "run_id", r.RunID)
	return "", nil
}

// reviewRunning asks Temporal whether r's review still runs. A worker
// without a client cannot tell and keeps the reservation.
func (a *ScanActivities) reviewRunning(ctx context.Context, r store.Reservation) (bool, error) {
	if a.Temporal == nil || (r.RunID == "" && time.Since(r.ReservedAt) < startingGrace) {
		return true, nil
	}
	desc, err := a.Temporal.DescribeWorkflowExecution(ctx, r.ReviewID, r.RunID)
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		return false, nil // never started, or past the namespace's retention
	case err != nil:
		return false, fmt.Errorf("describe review %s: %w", r.ReviewID, err)
	}
	status := desc.GetWorkflowExecutionInfo().GetStatus()
	if status == enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW && r.RunID != "" {
		// A review waiting long continues as new: its latest run is the
		// review now, and holds the account while it runs.
		r.RunID = ""
		return a.reviewRunning(ctx, r)
	}
	return status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, nil
}
