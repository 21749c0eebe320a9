// Package metrics is the worker's Prometheus registry, served at GET
// /metrics: Churnwatch's own churnwatch_ series (reviews by state and tier,
// time to decision, scan and draft durations, LLM calls, notices, ingested
// rows, HTTP requests), the Temporal SDK's temporal_ series through an
// OpenTelemetry meter, and the Go runtime's go_ and process_ series.
//
// Every method is safe on a nil *Metrics and then records nothing, so code
// built without metrics (tests, the starter) needs no guard.
package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// Metrics holds the registry and every series Churnwatch records itself.
type Metrics struct {
	registry *prometheus.Registry
	meters   *sdkmetric.MeterProvider // the Temporal SDK's, read by the registry
	logger   *slog.Logger

	scanStep       *prometheus.HistogramVec
	ingestRows     *prometheus.CounterVec
	draftDuration  *prometheus.HistogramVec
	llmCalls       *prometheus.CounterVec
	llmFailures    *prometheus.CounterVec
	llmTokens      prometheus.Counter
	notices        *prometheus.CounterVec
	timeToDecision *prometheus.HistogramVec
	httpRequests   *prometheus.CounterVec
	httpDuration   *prometheus.HistogramVec
}

// New makes the registry with Churnwatch's series, the Go runtime's and the
// meter the Temporal SDK reports to (see TemporalHandler).
func New(logger *slog.Logger) (*Metrics, error) {
	if logger == nil {
		logger = slog.Default()
	}
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		logger:   logger,
		scanStep: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "churnwatch_scan_step_duration_seconds",
			Help:    "How long each step of a portfolio scan took (ingest, score_chunk, start_reviews), per activity attempt.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600},
		}, []string{"step"}),
		ingestRows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "churnwatch_ingest_rows_total",
			Help: "Snapshot rows read by scans: kept (stored and scored) or rejected (invalid, listed in the scan's result).",
		}, []string{"result"}),
		draftDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "churnwatch_draft_duration_seconds",
			Help:    "How long writing a review's drafts took, by drafter (llm or offline) and result (ok or error).",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 20, 30, 60, 120},
		}, []string{"drafter", "result"}),
		llmCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "churnwatch_llm_calls_total",
			Help: "LLM draft activities by result: drafted (the LLM's draft is used), fallback (the offline draft is used: account barred, permanent error or invalid twice), error (the call failed and is retried).",
		}, []string{"result"}),
		llmFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "churnwatch_llm_failures_total",
			Help: "Failed LLM draft calls by reason: rate_limited (429), permanent (bad key or request) or transient.",
		}, []string{"reason"}),
		llmTokens: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "churnwatch_llm_tokens_total",
			Help: "Tokens the LLM reported using, every attempt of every draft included.",
		}),
		notices: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "churnwatch_notices_total",
			Help: "Notices to the team (reminders, escalations...) by kind and result: sent, or failed (retried by Temporal).",
		}, []string{"kind", "result"}),
		timeToDecision: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "churnwatch_time_to_decision_seconds",
			Help:    "From a review's start to its owner's decision, by decision (approve, edit, reject) and tier.",
			Buckets: []float64{60, 300, 900, 3600, 4 * 3600, 8 * 3600, 24 * 3600, 48 * 3600, 72 * 3600, 7 * 24 * 3600, 14 * 24 * 3600},
		}, []string{"decision", "tier"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "churnwatch_http_requests_total",
			Help: "HTTP requests to the worker's listener by route (the matched pattern, or unmatched) and status code.",
		}, []string{"route", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "churnwatch_http_request_duration_seconds",
			Help:    "How long the worker took to answer an HTTP request, by route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
	}
	for _, c := range []prometheus.Collector{
		m.scanStep, m.ingestRows, m.draftDuration, m.llmCalls, m.llmFailures, m.llmTokens,
		m.notices, m.timeToDecision, m.httpRequests, m.httpDuration,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := m.registry.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	meters, err := newMeterProvider(m.registry)
	if err != nil {
		return nil, err
	}
	m.meters = meters
	return m, nil
}

// Handler serves the registry in the Prometheus text format. A collector
// that fails (the store down) leaves its series out and is logged; the rest
// is still served.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		ErrorLog:      errorLog{m.logger},
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.registry,
	})
}

// Shutdown stops the Temporal SDK's meter.
func (m *Metrics) Shutdown(ctx context.Context) error {
	if m == nil {
		return nil
	}
	return m.meters.Shutdown(ctx)
}

// errorLog adapts the logger to promhttp's.
type errorLog struct{ l *slog.Logger }

func (e errorLog) Println(v ...any) { e.l.Warn("metrics scrape", "error", fmt.Sprint(v...)) }
