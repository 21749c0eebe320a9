package main

import (
	"context"

	"github.com/churnwatch/churnwatch/activities"
)

// noticeFirstRetry is the wait after a notice's first failed delivery
// (doubling after each); tests shorten it so a channel that comes back is
// seen within seconds.
var noticeFirstRetry = activities.DefaultNoticeRetry

// drainOutbox delivers the notices Notify queues in the store (see
// activities.Deliverer) until the returned stop is called; stop waits for
// the deliveries under way to be recorded. Every replica drains: leases in
// the store keep two from delivering one notice.
func drainOutbox(ctx context.Context, acts *activities.NotifyActivities) (stop func()) {
	d := activities.NewDeliverer(acts)
	d.FirstRetry = noticeFirstRetry
	acts.Deliverer = d
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}
