package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.temporal.io/sdk/client"

	"github.com/churnwatch/churnwatch/draft"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/store"
)

func newMetrics(t testing.TB) *Metrics {
	t.Helper()
	m, err := New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown(context.Background()) })
	return m
}

// scrape GETs /metrics from h and parses the answer as Prometheus does.
func scrape(t testing.TB, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse the scrape: %v", err)
	}
	return fams
}

// value is the value of the series of name whose labels include labels
// ("k", "v" pairs): a counter's or gauge's value, a histogram's count.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func want(t *testing.T, fams map[string]*dto.MetricFamily, v float64, name string, labels ...string) {
	t.Helper()
	got, ok := value(fams, name, labels...)
	if !ok {
		t.Errorf("no series %s%v", name, labels)
	} else if got != v {
		t.Errorf("%s%v = %v, want %v", name, labels, got, v)
	}
}

func TestObservations(t *testing.T) {
	m := newMetrics(t)
	m.ScanStep(StepIngest, time.Now().Add(-2*time.Second))
	m.Ingested(600, 3)
	m.Ingested(10, 0)
	m.DraftDone(DrafterOffline, 30*time.Millisecond, nil)
	m.DraftDone(DrafterOffline, time.Millisecond, errors.New("template"))
	m.LLMDraft(review.Draft{Drafter: "llm:qwen", TokensUsed: 1200}, nil, 3*time.Second)
	m.LLMDraft(review.Draft{Drafter: "offline", TokensUsed: 300}, nil, time.Second)
	m.LLMDraft(review.Draft{}, &draft.CallError{StatusCode: http.StatusTooManyRequests, RetryAfter: time.Second, Err: errors.New("slow down")}, time.Second)
	m.LLMDraft(review.Draft{}, &draft.CallError{StatusCode: http.StatusUnauthorized, Err: errors.New("bad key")}, time.Second)
	m.LLMDraft(review.Draft{}, &draft.CallError{StatusCode: http.StatusBadGateway, Err: errors.New("down")}, time.Second)
	m.Notice(review.EventReminded, nil)
	m.Notice(review.EventReminded, errors.New("webhook down"))
	created := time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)
	m.Decided(review.Packet{Severity: risk.Critical, CreatedAt: created, Decision: &review.Decision{Kind: review.Approve, At: created.Add(2 * time.Hour)}})
	m.Decided(review.Packet{Severity: risk.Critical, CreatedAt: created}) // no decision: nothing

	f := scrape(t, m.Handler())
	want(t, f, 1, "churnwatch_scan_step_duration_seconds", "step", "ingest")
	if sum := f["churnwatch_scan_step_duration_seconds"].GetMetric()[0].GetHistogram().GetSampleSum(); sum < 2 {
		t.Errorf("ingest took %vs, observed from a start 2s ago", sum)
	}
	want(t, f, 610, "churnwatch_ingest_rows_total", "result", "kept")
	want(t, f, 3, "churnwatch_ingest_rows_total", "result", "rejected")
	want(t, f, 1, "churnwatch_draft_duration_seconds", "drafter", "offline", "result", "ok")
	want(t, f, 1, "churnwatch_draft_duration_seconds", "drafter", "offline", "result", "error")
	want(t, f, 2, "churnwatch_draft_duration_seconds", "drafter", "llm", "result", "ok")
	want(t, f, 3, "churnwatch_draft_duration_seconds", "drafter", "llm", "result", "error")
	want(t, f, 1, "churnwatch_llm_calls_total", "result", "drafted")
	want(t, f, 1, "churnwatch_llm_calls_total", "result", "fallback")
	want(t, f, 3, "churnwatch_llm_calls_total", "result", "error")
	want(t, f, 1, "churnwatch_llm_failures_total", "reason", "rate_limited")
	want(t, f, 1, "churnwatch_llm_failures_total", "reason", "permanent")
	want(t, f, 1, "churnwatch_llm_failures_total", "reason", "transient")
	want(t, f, 1500, "churnwatch_llm_tokens_total")
	want(t, f, 1, "churnwatch_notices_total", "kind", string(review.EventReminded), "result", "sent")
	want(t, f, 1, "churnwatch_notices_total", "kind", string(review.EventReminded), "result", "failed")
	want(t, f, 1, "churnwatch_time_to_decision_seconds", "decision", "approve", "tier", "critical")
	if sum := f["churnwatch_time_to_decision_seconds"].GetMetric()[0].GetHistogram().GetSampleSum(); sum != 7200 {
		t.Errorf("time to decision %vs, want 2h", sum)
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if f[name] == nil {
			t.Errorf("no %s", name)
		}
	}
	for name, fam := range f {
		if fam.GetHelp() == "" {
			t.Errorf("%s has no help text", name)
		}
	}
}

// TestNilRecordsNothing: code built without metrics calls them all the same.
func TestNilRecordsNothing(t *testing.T) {
	var m *Metrics
	m.ScanStep(StepScoreChunk, time.Now())
	m.Ingested(1, 1)
	m.DraftDone(DrafterLLM, time.Second, nil)
	m.LLMDraft(review.Draft{}, errors.New("x"), time.Second)
	m.Notice(review.EventReminded, nil)
	m.Decided(review.Packet{})
	if err := m.CountReviews(nil); err != nil {
		t.Fatal(err)
	}
	if m.TemporalHandler() != client.MetricsNopHandler {
		t.Error("nil metrics give the SDK a handler that records")
	}
	next := http.NotFoundHandler()
	rec := httptest.NewRecorder()
	m.HTTP(http.NewServeMux(), next).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("nil metrics' middleware: %d", rec.Code)
	}
	if err := m.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestHTTPByRoute(t *testing.T) {
	m := newMetrics(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /review/{account}/{cycle}", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "page") })
	mux.HandleFunc("POST /api/reviews/{account}/{cycle}/decision", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "decided already", http.StatusConflict)
	})
	mux.Handle("GET /metrics", m.Handler())
	h := m.HTTP(mux, mux)
	for _, r := range []struct{ method, path string }{
		{"GET", "/review/A-1/2026-11-16"},
		{"GET", "/review/A-2/2026-11-16"},
		{"POST", "/api/reviews/A-1/2026-11-16/decision"},
		{"GET", "/no/such/page/A-1"},
		{"DELETE", "/review/A-1/2026-11-16"},
	} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(r.method, r.path, strings.NewReader("")))
	}
	f := scrape(t, h)
	want(t, f, 2, "churnwatch_http_requests_total", "route", "GET /review/{account}/{cycle}", "code", "200")
	want(t, f, 1, "churnwatch_http_requests_total", "route", "POST /api/reviews/{account}/{cycle}/decision", "code", "409")
	want(t, f, 1, "churnwatch_http_requests_total", "route", "unmatched", "code", "404")
	want(t, f, 1, "churnwatch_http_requests_total", "route", "unmatched", "code", "405")
	want(t, f, 2, "churnwatch_http_request_duration_seconds", "route", "GET /review/{account}/{cycle}")
	for _, m := range f["churnwatch_http_requests_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if strings.Contains(l.GetValue(), "A-1") {
				t.Errorf("a path, not a route, in a label: %v", m)
			}
		}
	}
}

// TestReviewCounts counts the record's reviews by state and tier at
// scrape time; a record that fails leaves them out of a scrape that still
// answers.
func TestReviewCounts(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := newMetrics(t)
	if err := m.CountReviews(st); err != nil {
		t.Fatal(err)
	}
	save := func(n int, state review.State, tier risk.Tier) {
		for range n {
			if err := st.SavePacket(ctx, testPacket(state, tier)); err != nil {
				t.Fatal(err)
			}
		}
	}
	save(3, review.AwaitingApproval, risk.Critical)
	save(2, review.AwaitingApproval, risk.Elevated)
	save(1, review.Closed, risk.Elevated)

	f := scrape(t, m.Handler())
	want(t, f, 3, "churnwatch_reviews", "state", "awaiting_approval", "tier", "critical")
	want(t, f, 2, "churnwatch_reviews", "state", "awaiting_approval", "tier", "elevated")
	want(t, f, 1, "churnwatch_reviews", "state", "closed", "tier", "elevated")
	want(t, f, 0, "churnwatch_reviews", "state", "drafting", "tier", "critical")
	if n := len(f["churnwatch_reviews"].GetMetric()); n != len(review.States)*len(risk.Tiers) {
		t.Errorf("%d review series, want one per state and tier", n)
	}

	st.Close()
	f = scrape(t, m.Handler())
	if f["churnwatch_reviews"] != nil {
		t.Error("review counts from a closed record")
	}
	if f["go_goroutines"] == nil {
		t.Error("a failing record took the other series with it")
	}
}

var packetSeq int

func testPacket(state review.State, tier risk.Tier) review.Packet {
	packetSeq++
	account := fmt.Sprintf("A-%d", packetSeq)
	at := time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)
	return review.Packet{
		ReviewID: review.ID(account, "2026-11-16"), AccountID: account, Cycle: "2026-11-16", Owner: "dana",
		State: state, Severity: tier, CreatedAt: at, UpdatedAt: at,
		Assessment: risk.Assessment{AccountID: account, Tier: tier, Score: 60, SLAHours: 48},
	}
}

// TestTemporalSeries: what the Temporal SDK reports through the handler is
// served under its own temporal_ names, timers in seconds.
func TestTemporalSeries(t *testing.T) {
	m := newMetrics(t)
	h := m.TemporalHandler().WithTags(map[string]string{"namespace": "default", "task_queue": "churnwatch"})
	h.Counter("temporal_request").Inc(2)
	h.Gauge("temporal_num_pollers").Update(4)
	h.Timer("temporal_workflow_task_execution_latency").Record(40 * time.Millisecond)

	f := scrape(t, m.Handler())
	want(t, f, 2, "temporal_request_total", "namespace", "default", "task_queue", "churnwatch")
	want(t, f, 4, "temporal_num_pollers", "namespace", "default")
	want(t, f, 1, "temporal_workflow_task_execution_latency_seconds", "namespace", "default")
	lat := f["temporal_workflow_task_execution_latency_seconds"].GetMetric()[0].GetHistogram()
	if lat.GetSampleSum() != 0.04 || len(lat.GetBucket()) < 10 || lat.GetBucket()[0].GetUpperBound() > 0.01 {
		t.Errorf("latency histogram not in seconds: %v", lat)
	}
}
