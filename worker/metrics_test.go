package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"

	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/workflows"
)

// TestMetricsTracesAndProbes runs the worker with tracing sent to an
// in-process OTLP/gRPC receiver, scans the sample book and decides a
// review through the API, then reads what operations would: /readyz,
// /metrics (Churnwatch's series and the Temporal SDK's) and the spans.
func TestMetricsTracesAndProbes(t *testing.T) {
	spans := startOTLPReceiver(t)
	cfg := testConfig(t, t.TempDir())
	cfg.OTel.Endpoint, cfg.OTel.Insecure = spans.addr, true
	tm := addTeam(t, cfg)
	start := time.Now()
	c := startWorker(t, cfg)
	base := "http://" + cfg.HTTP.Addr
	if code, body, _ := get(t, http.DefaultClient, base+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz once the worker polls: %d %s", code, body)
	}
	t.Logf("worker start to ready (embedded Temporal server included): %v", time.Since(start).Round(time.Millisecond))
	if code, _, _ := get(t, http.DefaultClient, base+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz: %d", code)
	}

	res := scan(t, c, cfg, examplePath(t))
	byOwner := awaitingReviews(t, cfg, tm, res)
	f := scrapeWorker(t, cfg)
	rows := sampleRows(t)
	wantSample(t, f, float64(rows), "churnwatch_ingest_rows_total", "result", "kept")
	wantSample(t, f, 0, "churnwatch_ingest_rows_total", "result", "rejected")
	wantSample(t, f, 1, "churnwatch_scan_step_duration_seconds", "step", "ingest")
	for _, tier := range []risk.Tier{risk.Critical, risk.Elevated} {
		wantSample(t, f, float64(res.Tiers[tier]), "churnwatch_reviews", "state", string(review.AwaitingApproval), "tier", string(tier))
	}
	if n := sumSamples(f, "churnwatch_reviews"); n != float64(len(res.Started)) || n == 0 {
		t.Errorf("churnwatch_reviews add up to %v; the scan started %d reviews", n, len(res.Started))
	}
	for _, series := range [][]string{
		{"churnwatch_scan_step_duration_seconds", "step", "score_chunk"},
		{"churnwatch_scan_step_duration_seconds", "step", "start_reviews"},
		{"temporal_activity_execution_latency_seconds", "activity_type", "Ingest"},
		{"temporal_workflow_completed_total", "workflow_type", workflows.ScanWorkflow},
		{"temporal_request_total"},
		{"temporal_num_pollers", "poller_type", "workflow_task"},
		{"churnwatch_http_requests_total", "route", "GET /readyz", "code", "200"},
	} {
		if v, ok := sample(f, series[0], series[1:]...); !ok || v <= 0 {
			t.Errorf("%v: %v, %v; want a positive count", series, v, ok)
		}
	}
	if v, _ := sample(f, "churnwatch_draft_duration_seconds", "drafter", "offline", "result", "ok"); v < float64(len(res.Started)) {
		t.Errorf("%v offline drafts observed for %d reviews", v, len(res.Started))
	}

	// The owner decides, and a retry of the same request answers again:
	// one decision, observed once.
	id := byOwner["dana"][0]
	for range 2 {
		if code, body := api(t, cfg, tm.tokens["dana"], "POST", apiPath(id)+"/decision", map[string]any{"decision": "approve"}, "Idempotency-Key", "k-1"); code != http.StatusOK {
			t.Fatalf("approve: %d %s", code, body)
		}
	}
	f = scrapeWorker(t, cfg)
	wantSample(t, f, 1, "churnwatch_time_to_decision_seconds", "decision", string(review.Approve))
	wantSample(t, f, 2, "churnwatch_http_requests_total", "route", "POST /api/reviews/{account}/{cycle}/decision", "code", "200")

	// The spans reach the collector: the scan's workflow and activities,
	// and the decision's request linked through Temporal to the update
	// the review's workflow handled.
	waitFor(t, "the spans at the OTLP receiver", func() bool {
		return spans.has("RunActivity:Ingest") && spans.has("HandleUpdate:"+workflows.UpdateDecide)
	})
	httpTrace := spans.trace("POST /api/reviews/{account}/{cycle}/decision")
	for _, name := range []string{"UpdateWorkflow:" + workflows.UpdateDecide, "HandleUpdate:" + workflows.UpdateDecide} {
		if tr := spans.trace(name); tr == "" || tr != httpTrace {
			t.Errorf("span %s in trace %q, the decision request's is %q", name, tr, httpTrace)
		}
	}
	if s := spans.services(); len(s) != 1 || s[0] != "churnwatch" {
		t.Errorf("service.name of the spans: %v", s)
	}
}

// TestProbes: /healthz answers 200 once the workers poll (the CLI
// contract); /readyz only once the readiness check passes, naming what
// failed without its details.
func TestProbes(t *testing.T) {
	var ready atomic.Pointer[func(context.Context) error]
	mux := http.NewServeMux()
	srv, err := serveHTTP("127.0.0.1:0", mux, mux, &ready, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	base := "http://" + srv.Addr
	probe := func(path string) (int, string) {
		code, body, _ := get(t, http.DefaultClient, base+path)
		return code, body
	}
	if code, _ := probe("/healthz"); code != http.StatusServiceUnavailable {
		t.Errorf("/healthz while starting: %d", code)
	}
	if code, _ := probe("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz while starting: %d", code)
	}
	failing := func(context.Context) error {
		return fmt.Errorf("store: %w", errors.New("ping store: dial postgres://churnwatch@db.internal:5432 refused"))
	}
	ready.Store(&failing)
	if code, _ := probe("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz once polling, the store down: %d", code)
	}
	if code, body := probe("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "store") || strings.Contains(body, "db.internal") {
		t.Errorf("/readyz with the store down: %d %q", code, body)
	}
	ok := func(context.Context) error { return nil }
	ready.Store(&ok)
	if code, _ := probe("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz when ready: %d", code)
	}
	ready.Store(nil)
	if code, _ := probe("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz while stopping: %d", code)
	}
	if code, _ := probe("/healthz"); code != http.StatusServiceUnavailable {
		t.Errorf("/healthz while stopping: %d", code)
	}
}

// sampleRows counts the data rows of the sample book.
func sampleRows(t testing.TB) int {
	t.Helper()
	b, err := os.ReadFile(examplePath(t))
	if err != nil {
		t.Fatal(err)
	}
	return len(bytes.Split(bytes.TrimSpace(b), []byte("\n"))) - 1
}

func scrapeWorker(t testing.TB, cfg config.Config) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + cfg.HTTP.Addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	f, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return f
}

// sample is the value of the first series of name whose labels include
// labels ("k", "v" pairs): a counter's or gauge's value, a histogram's count.
func sample(f map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
next:
	for _, m := range f[name].GetMetric() {
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

func sumSamples(f map[string]*dto.MetricFamily, name string) float64 {
	var sum float64
	for _, m := range f[name].GetMetric() {
		sum += m.GetGauge().GetValue() + m.GetCounter().GetValue()
	}
	return sum
}

func wantSample(t *testing.T, f map[string]*dto.MetricFamily, want float64, name string, labels ...string) {
	t.Helper()
	if got, ok := sample(f, name, labels...); !ok || got != want {
		t.Errorf("%s%v = %v (present %v), want %v", name, labels, got, ok, want)
	}
}

// otlpReceiver is an OTLP/gRPC trace collector on loopback: the real wire
// protocol, keeping each span's name, trace and service.
type otlpReceiver struct {
	collectortrace.UnimplementedTraceServiceServer
	addr  string
	mu    sync.Mutex
	spans []receivedSpan
}

type receivedSpan struct{ name, trace, service string }

func startOTLPReceiver(t testing.TB) *otlpReceiver {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &otlpReceiver{addr: l.Addr().String()}
	s := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(s, r)
	go s.Serve(l)
	t.Cleanup(s.Stop)
	return r
}

func (r *otlpReceiver) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, a := range rs.GetResource().GetAttributes() {
			if a.GetKey() == "service.name" {
				service = a.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				r.spans = append(r.spans, receivedSpan{s.GetName(), hex.EncodeToString(s.GetTraceId()), service})
			}
		}
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

func (r *otlpReceiver) has(name string) bool { return r.trace(name) != "" }

// trace is the trace ID of the first span named name, "" when none came.
func (r *otlpReceiver) trace(name string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.spans {
		if s.name == name {
			return s.trace
		}
	}
	return ""
}

func (r *otlpReceiver) services() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for _, s := range r.spans {
		if !seen[s.service] {
			seen[s.service] = true
			out = append(out, s.service)
		}
	}
	return out
}

// BenchmarkScrapeWorker measures one GET /metrics of a real worker, over
// loopback, after a scan of the sample book (so the Temporal SDK's series
// are those of real work) on a record of a few thousand reviews. The
// metrics package's BenchmarkScrape compares the stores.
//
//	go test -run '^$' -bench ScrapeWorker ./worker/
func BenchmarkScrapeWorker(b *testing.B) {
	cfg := testConfig(b, b.TempDir())
	c := startWorker(b, cfg)
	scan(b, c, cfg, examplePath(b))
	st, err := store.Open(context.Background(), cfg.Store.DSN, cfg.DataDir)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	states, tiers := review.States, []risk.Tier{risk.Critical, risk.Elevated, risk.Watch}
	at := time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)
	for i := range 4000 {
		account := fmt.Sprintf("B-%d", i)
		p := review.Packet{ReviewID: review.ID(account, "2026-11-09"), AccountID: account, Cycle: "2026-11-09", Owner: "dana",
			State: states[i%len(states)], Severity: tiers[i%len(tiers)], CreatedAt: at, UpdatedAt: at,
			Assessment: risk.Assessment{AccountID: account, Tier: tiers[i%len(tiers)], Score: 50 + i%50, SLAHours: 48}}
		if err := st.SavePacket(context.Background(), p); err != nil {
			b.Fatal(err)
		}
	}
	var size int
	b.ResetTimer()
	for b.Loop() {
		resp, err := http.Get("http://" + cfg.HTTP.Addr + "/metrics")
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("/metrics: %s", resp.Status)
		}
		size = int(n)
	}
	b.ReportMetric(float64(size), "bytes/scrape")
}
