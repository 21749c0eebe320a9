package metrics

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/store"
)

// benchReviews is the record a scrape counts: a few thousand reviews over
// every state and the at-risk tiers, as a large book holds after some weeks.
const benchReviews = 4000

// BenchmarkScrape measures one GET /metrics on a record of benchReviews
// reviews: the review counts (one queue count per state and tier), the
// Temporal SDK's series, Churnwatch's own and the Go runtime's.
//
//	go test -run '^$' -bench Scrape ./metrics/
//	eval "$(bash .ci/postgres.sh)"   # to include PostgreSQL
func BenchmarkScrape(b *testing.B) {
	backends := map[string]func(b *testing.B) string{"sqlite": func(*testing.B) string { return "" }}
	if os.Getenv("CHURNWATCH_TEST_POSTGRES_DSN") != "" {
		backends["postgres"] = benchPostgres
	}
	for name, dsn := range backends {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			st, err := store.Open(ctx, dsn(b), b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			states := review.States
			tiers := []risk.Tier{risk.Critical, risk.Elevated, risk.Watch}
			for i := range benchReviews {
				if err := st.SavePacket(ctx, testPacket(states[i%len(states)], tiers[i%len(tiers)])); err != nil {
					b.Fatal(err)
				}
			}
			m := newMetrics(b)
			if err := m.CountReviews(st); err != nil {
				b.Fatal(err)
			}
			busy(m)
			h := m.Handler()
			var size int
			b.ResetTimer()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
				if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "churnwatch_reviews{") {
					b.Fatalf("scrape: %d", rec.Code)
				}
				size = rec.Body.Len()
			}
			b.ReportMetric(float64(size), "bytes/scrape")
		})
	}
}

// busy records what a working worker has recorded: every route, drafter,
// notice kind and the Temporal SDK's usual series.
func busy(m *Metrics) {
	mux := http.NewServeMux()
	for _, p := range []string{"GET /review/{account}/{cycle}", "GET /inbox", "GET /dashboard", "POST /api/reviews/{account}/{cycle}/decision"} {
		mux.HandleFunc(p, func(http.ResponseWriter, *http.Request) {})
	}
	h := m.HTTP(mux, mux)
	for _, path := range []string{"/review/A-1/2026-11-16", "/inbox", "/dashboard", "/nope"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	for _, step := range []string{StepIngest, StepScoreChunk, StepStartReviews} {
		m.ScanStep(step, time.Now())
	}
	m.Ingested(600, 2)
	m.LLMDraft(review.Draft{Drafter: "llm:m", TokensUsed: 900}, nil, time.Second)
	m.DraftDone(DrafterOffline, time.Millisecond, nil)
	for _, k := range []review.EventKind{review.EventReminded, review.EventEscalated, review.EventDrafted} {
		m.Notice(k, nil)
	}
	t := m.TemporalHandler()
	for _, queue := range []string{"churnwatch", "churnwatch-llm"} {
		q := t.WithTags(map[string]string{"namespace": "default", "task_queue": queue})
		for _, name := range []string{"Ingest", "ScoreChunk", "StartReviews", "GatherEvidence", "DraftOffline", "SavePacket", "RecordEvent", "Notify"} {
			a := q.WithTags(map[string]string{"activity_type": name})
			a.Counter("temporal_activity_poll_no_task").Inc(1)
			a.Timer("temporal_activity_execution_latency").Record(20 * time.Millisecond)
			a.Timer("temporal_activity_schedule_to_start_latency").Record(5 * time.Millisecond)
		}
		q.Gauge("temporal_num_pollers").Update(2)
		q.Timer("temporal_workflow_task_execution_latency").Record(3 * time.Millisecond)
		q.Counter("temporal_request").Inc(10)
	}
}

// benchPostgres is a fresh schema of the test database, dropped afterwards.
func benchPostgres(b *testing.B) string {
	base := os.Getenv("CHURNWATCH_TEST_POSTGRES_DSN")
	admin, err := sql.Open("pgx", base)
	if err != nil {
		b.Fatal(err)
	}
	schema := fmt.Sprintf("bench_metrics_%d", time.Now().UnixNano())
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}
