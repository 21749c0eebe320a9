package activities

import (
	"context"
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/slack"
)

// notifySlack posts notice n to its recipient's Slack when Slack is on. A
// failure is reported as a webhook's is: retried, unless Slack's answer
// says no retry can help.
func (a *Activities) notifySlack(ctx context.Context, n review.Notice) error {
	if a.Slack == nil {
		return nil
	}
	err := a.Slack.Post(ctx, n)
	if errors.Is(err, slack.ErrRejected) {
		return temporal.NewNonRetryableApplicationError(err.Error(), "SlackRejected", err)
	}
	return err
}
