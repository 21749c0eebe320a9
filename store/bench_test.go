package store

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
)

// The measurement-event write path: every review step appends one event, so
// this bounds how many review steps per second the record can take.
//
//	go test -run '^$' -bench AppendEvent ./store/
//	eval "$(bash .ci/postgres.sh)"   # to include PostgreSQL
func BenchmarkAppendEvent(b *testing.B) {
	for _, backend := range benchBackends(b) {
		b.Run(backend.name, func(b *testing.B) {
			st := backend.open(b)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rid := "review/A-" + strconv.Itoa(i) + "/2026-11-16"
				if _, err := st.AppendEvent(ctx, review.Event{Key: review.EventKey(rid, "", review.EventFlagged, 0),
					ReviewID: rid, AccountID: "A-" + strconv.Itoa(i), Kind: review.EventFlagged, Actor: "churnwatch", At: t0,
					Detail: "crossed into elevated"}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
		// Many activities writing at once, as when a scan opens many reviews.
		b.Run(backend.name+"/parallel", func(b *testing.B) {
			st := backend.open(b)
			ctx := context.Background()
			var n atomic.Int64
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					rid := fmt.Sprintf("review/A-%d/2026-11-16", i)
					if _, err := st.AppendEvent(ctx, review.Event{Key: review.EventKey(rid, "", review.EventFlagged, 0),
						ReviewID: rid, Kind: review.EventFlagged, Actor: "churnwatch", At: t0}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkSaveScores measures storing one scan's scores (1,000 accounts per
// op), the other bulk write a scan makes.
func BenchmarkSaveScores(b *testing.B) {
	for _, backend := range benchBackends(b) {
		b.Run(backend.name, func(b *testing.B) {
			st := backend.open(b)
			ctx := context.Background()
			batch := make([]risk.Assessment, 1000)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				week := fmt.Sprintf("w%06d", i)
				for j := range batch {
					batch[j] = assessment("A-"+strconv.Itoa(j), week, 50, risk.Watch, "h1")
				}
				if err := st.SaveScores(ctx, "b", batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "scores/s")
		})
	}
}

type benchBackend struct {
	name string
	open func(b *testing.B) Store
}

func benchBackends(b *testing.B) []benchBackend {
	backends := []benchBackend{{"sqlite", func(b *testing.B) Store {
		st, err := Open(context.Background(), "", b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		return st
	}}}
	if os.Getenv(postgresDSNEnv) != "" {
		backends = append(backends, benchBackend{"postgres", func(b *testing.B) Store {
			dsn, _ := postgresLocation(b)
			st, err := Open(context.Background(), dsn, "")
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			return st
		}})
	} else {
		b.Logf("PostgreSQL benchmarks skipped: %s is not set", postgresDSNEnv)
	}
	return backends
}
