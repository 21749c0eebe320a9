// Package activities adapts the workflows to the world: the snapshot reader,
// the risk engine, the drafters, the notice channels and the store. The
// activities are methods on one struct per concern, each holding only what
// its activities use (as in Temporal's samples): ScanActivities
// (PortfolioScan), ReviewActivities and DraftActivities (AccountReview),
// NotifyActivities (notices, outreach, digests) and ReportActivities
// (LeadershipSummary). A worker registers each struct, so every activity
// is registered under its method name, the name workflows call it by and
// recorded histories hold. Every write is idempotent so a retried activity
// never writes twice.
package activities

import (
	"context"
	"log/slog"
	"time"

	"go.temporal.io/sdk/activity"
)

// logOr is l, or the default logger when the worker gave none (tests).
func logOr(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.Default()
}

// heartbeatEvery heartbeats every interval until stop is called, for an
// activity that blocks on one long call (a model writing, a warehouse
// query), so a dead worker is noticed long before its timeout.
func heartbeatEvery(ctx context.Context, every time.Duration) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	return func() { close(done) }
}
