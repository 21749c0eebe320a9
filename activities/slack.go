package activities

import (
	"context"

	"github.com/churnwatch/churnwatch/review"
)

// notifySlack posts notice n to its recipient's Slack when Slack is on.
// The error wraps slack.ErrRejected when Slack's answer says no retry can
// help; the outbox's drainer retries any other (deliver.go).
func (a *NotifyActivities) notifySlack(ctx context.Context, n review.Notice) error {
	if a.Slack == nil {
		return nil
	}
	return a.Slack.Post(ctx, n)
}
