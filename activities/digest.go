package activities

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/churnwatch/churnwatch/digest"
	"github.com/churnwatch/churnwatch/workflows"
)

// SendDigests emails each person with reviews waiting on them their daily
// digest (package digest). A retry resumes after the people an earlier
// attempt reported in its heartbeat, so nobody gets the day's digest
// twice; a person whose email failed is tried again by the retry. With
// email off it sends nothing.
func (a *NotifyActivities) SendDigests(ctx context.Context, in workflows.DigestInput) (workflows.DigestResult, error) {
	res := workflows.DigestResult{Sent: []string{}}
	if a.Mail == nil {
		logOr(a.Logger).Info("daily digest not sent: email is off (notify.smtp.addr)")
		return res, nil
	}
	loc, err := time.LoadLocation(in.TimeZone)
	if err != nil {
		return res, temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrInvalidInput, err)
	}
	if activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &res); err != nil {
			res = workflows.DigestResult{Sent: []string{}}
		}
	}
	opts := digest.Options{PagesURL: a.PagesURL, Cycle: in.Week, Location: loc}
	if a.Policy != nil {
		opts.Leaders, opts.Managers = a.Policy.Leaders, a.Policy.Managers
	}
	ds, err := digest.Build(ctx, a.Store, opts)
	if err != nil {
		return res, err
	}
	activity.RecordHeartbeat(ctx, res)
	var failed []string
	for _, d := range ds {
		if slices.Contains(res.Sent, d.User.Name) {
			continue
		}
		if err := a.Mail.Send(ctx, d.Message); err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", d.User.Name, err))
			continue
		}
		res.Sent = append(res.Sent, d.User.Name)
		activity.RecordHeartbeat(ctx, res)
	}
	logOr(a.Logger).Info("daily digest", "sent", len(res.Sent), "failed", len(failed), "to", res.Sent)
	if len(failed) > 0 {
		return res, fmt.Errorf("daily digest: %d of %d not sent: %s", len(failed), len(ds), strings.Join(failed, "; "))
	}
	return res, nil
}
