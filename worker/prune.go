package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/churnwatch/churnwatch/store"
)

// storeRetention is how long the record keeps a consumed upload's content
// and a delivered notice (store.Retention): long past any retry that could
// read them again, short enough that the store grows with the book rather
// than with every week ever uploaded.
const storeRetention = 30 * 24 * time.Hour

// pruneEvery is how often each replica prunes. Pruning twice prunes
// nothing more, so replicas need not take turns.
const pruneEvery = 6 * time.Hour

// pruneStore prunes now and every pruneEvery until ctx ends, and returns
// a stop that waits for a prune under way.
func pruneStore(ctx context.Context, st store.Store, logger *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(pruneEvery)
		defer tick.Stop()
		for {
			pruneOnce(ctx, st, logger, time.Now().Add(-storeRetention))
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// pruneOnce prunes what is older than before; a failure is logged and
// tried again at the next tick.
func pruneOnce(ctx context.Context, st store.Store, logger *slog.Logger, before time.Time) {
	for what, prune := range map[string]func(context.Context, time.Time) (int, error){
		"consumed uploads' content": st.PruneUploads,
		"sent notices":              st.PruneNotices,
	} {
		n, err := prune(ctx, before)
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Warn("prune the store", "what", what, "error", err)
		case n > 0:
			logger.Info("pruned the store", "what", what, "count", n, "older_than", before.Format(time.DateOnly))
		}
	}
}
