package activities

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/workflows"
)

// ReviewActivities are AccountReview's own: they gather and score the
// account's evidence and keep its packet and events in the store. Drafting
// and notices have theirs (DraftActivities, NotifyActivities).
type ReviewActivities struct {
	Store store.Store
	Model risk.Model
}

// GatherEvidence loads an account's weekly history up to the review's week.
func (a *ReviewActivities) GatherEvidence(ctx context.Context, in workflows.EvidenceRequest) (workflows.Evidence, error) {
	rows, err := a.Store.History(ctx, []string{in.AccountID}, in.AsOf)
	if err != nil {
		return workflows.Evidence{}, fmt.Errorf("load history of %s: %w", in.AccountID, err)
	}
	if len(rows) == 0 {
		err := fmt.Errorf("no snapshots of account %s up to %s", in.AccountID, in.AsOf)
		return workflows.Evidence{}, temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrInvalidInput, err)
	}
	ev := workflows.Evidence{AccountID: in.AccountID, AsOf: in.AsOf, History: boundEvidence(rows, a.Model)}
	// The scan scored the account among its peers; the review keeps that
	// assessment when the model is the same, so both say the same thing.
	scores, err := a.Store.ScoresAsOf(ctx, in.AsOf, in.AccountID)
	if err != nil {
		return workflows.Evidence{}, fmt.Errorf("load the scan's score of %s: %w", in.AccountID, err)
	}
	for _, s := range scores {
		if s.ConfigHash == a.Model.Hash() {
			boundAssessment(&s)
			ev.Scored = &s
		}
	}
	return ev, nil
}

// ScoreAccount returns the scan's assessment of the account when there is
// one under the current model, and otherwise scores its history alone. It
// is pure.
func (a *ReviewActivities) ScoreAccount(ctx context.Context, ev workflows.Evidence) (risk.Assessment, error) {
	if ev.Scored != nil {
		return *ev.Scored, nil
	}
	asOf, err := time.Parse(time.DateOnly, ev.AsOf)
	if err != nil {
		return risk.Assessment{}, temporal.NewNonRetryableApplicationError("bad as-of", workflows.ErrInvalidInput, err)
	}
	return a.Model.Score(ev.History, asOf), nil
}

// SavePacket stores the decision packet; a stale retry never overwrites a
// newer packet. A closed or rejected review releases its account.
func (a *ReviewActivities) SavePacket(ctx context.Context, p review.Packet) error {
	if err := a.Store.SavePacket(ctx, p); err != nil {
		return fmt.Errorf("save packet %s: %w", p.ReviewID, err)
	}
	return a.releaseClosed(ctx, p)
}

// RecordEvent appends a measurement event once, whatever the retries.
func (a *ReviewActivities) RecordEvent(ctx context.Context, e review.Event) error {
	if _, err := a.Store.AppendEvent(ctx, e); err != nil {
		return fmt.Errorf("record event %s: %w", e.Key, err)
	}
	return nil
}

// releaseClosed frees the account of a review that closed or was rejected.
func (a *ReviewActivities) releaseClosed(ctx context.Context, p review.Packet) error {
	if p.State != review.Closed && p.State != review.Rejected {
		return nil
	}
	return a.Store.ReleaseAccount(ctx, p.AccountID, p.ReviewID)
}
