package activities

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/store"
)

// Notify tells a person inside the team: it logs the notice and appends it
// to the outbox in the store, and returns. The worker's Deliverer takes it
// from there to the webhook, Slack and email (deliver.go), with bounded
// retries of its own, so a channel that is down never holds up the review
// (its gate, SLA timers, action and outcome) and loses nothing. The key
// names the review run and the activity, the same on every retry: the
// outbox holds it once. Notices never go to customers.
func (a *Activities) Notify(ctx context.Context, n review.Notice) error {
	info := activity.GetInfo(ctx)
	key := info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID + "/" + info.ActivityID
	a.logger().Info("notice", "to", n.To, "kind", n.Kind, "review_id", n.ReviewID, "message", n.Message)
	added, err := a.Store.AddNotice(ctx, store.OutboxNotice{Key: key, Notice: n, Created: time.Now().UTC()})
	if err != nil {
		return fmt.Errorf("queue the notice to %s: %w", n.To, err)
	}
	if added && a.Deliverer != nil {
		a.Deliverer.Wake()
	}
	return nil
}
