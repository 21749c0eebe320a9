package activities

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/churnwatch/churnwatch/mail"
	"github.com/churnwatch/churnwatch/metrics"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/slack"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/webhook"
)

// NotifyActivities reach people: Notify queues the notices to the team
// that the Deliverer drains to the webhook, Slack and email (deliver.go,
// email.go, slack.go); SendOutreach emails the approved outreach to the
// customer (outreach.go); SendDigests emails the daily digests (digest.go).
type NotifyActivities struct {
	Store store.Store
	// Webhook also receives every notice; nil when none is configured.
	Webhook *webhook.Poster
	// Slack also receives each notice, in its recipient's direct messages;
	// nil when Slack is off.
	Slack *slack.Poster
	// Mail emails each notice to its recipient's address in the user
	// record, the daily digests and the approved outreach; nil when email
	// is off.
	Mail *mail.Sender
	// PagesURL is where the team reaches the worker's review pages; notices
	// and digests link their review there when it is set.
	PagesURL string
	// Policy is this worker's review policy: its managers and leaders get
	// digests, and SendOutreach says whether outreach may be sent at all
	// (notify.send_outreach). Nil sends no outreach.
	Policy *review.Policy
	Logger *slog.Logger
	// Metrics records the notices' churnwatch_ series; nil records nothing.
	Metrics *metrics.Metrics
	// Deliverer drains the outbox Notify appends to; Notify wakes it.
	// Nil in tests that drain by hand.
	Deliverer *Deliverer
}

// Notify tells a person inside the team: it logs the notice and appends it
// to the outbox in the store, and returns. The worker's Deliverer takes it
// from there to the webhook, Slack and email (deliver.go), with bounded
// retries of its own, so a channel that is down never holds up the review
// (its gate, SLA timers, action and outcome) and loses nothing. The key
// names the review run and the activity, the same on every retry: the
// outbox holds it once. Notices never go to customers.
func (a *NotifyActivities) Notify(ctx context.Context, n review.Notice) error {
	info := activity.GetInfo(ctx)
	key := info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID + "/" + info.ActivityID
	logOr(a.Logger).Info("notice", "to", n.To, "kind", n.Kind, "review_id", n.ReviewID, "message", n.Message)
	added, err := a.Store.AddNotice(ctx, store.OutboxNotice{Key: key, Notice: n, Created: time.Now().UTC()})
	if err != nil {
		return fmt.Errorf("queue the notice to %s: %w", n.To, err)
	}
	if added && a.Deliverer != nil {
		a.Deliverer.Wake()
	}
	return nil
}
