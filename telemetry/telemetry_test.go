package telemetry

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/metrics"
)

func TestOffWithoutEndpoint(t *testing.T) {
	tr, err := New(context.Background(), config.Default().OTel)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Enabled() || tr.Interceptors() != nil {
		t.Fatal("tracing is on without an endpoint")
	}
	h := &struct{ http.Handler }{http.NotFoundHandler()}
	if got := tr.Handler(h, nil); got != http.Handler(h) {
		t.Errorf("the handler is wrapped without an endpoint: %T", got)
	}
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestEndpointBuildsTheExporter: with an endpoint the OTLP exporter is
// built without reaching the collector (it connects lazily).
func TestEndpointBuildsTheExporter(t *testing.T) {
	tr, err := New(context.Background(), config.OTel{Endpoint: "127.0.0.1:1", Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Enabled() || len(tr.Interceptors()) != 1 {
		t.Fatal("tracing is off with an endpoint")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = tr.Shutdown(ctx) // nothing listens: the spans are lost, the worker is not
}

func newTracing(t *testing.T) (*Tracing, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tr, err := New(context.Background(), config.OTel{ServiceName: "churnwatch-test"}, WithExporter(exp))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Shutdown(context.Background()) })
	return tr, exp
}

// TestHTTPSpans: a request gets a span named by its route, continuing the
// caller's trace.
func TestHTTPSpans(t *testing.T) {
	tr, exp := newTracing(t)
	m, err := metrics.New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /review/{account}/{cycle}", func(w http.ResponseWriter, r *http.Request) {})
	h := tr.Handler(m.HTTP(mux, mux), func(r *http.Request) string { return metrics.Route(mux, r) })

	req := httptest.NewRequest(http.MethodGet, "/review/A-1/2026-11-16", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h.ServeHTTP(httptest.NewRecorder(), req)

	spans := exp.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	s := spans[0]
	if s.Name != "GET /review/{account}/{cycle}" {
		t.Errorf("span name %q", s.Name)
	}
	if !slices.Contains(s.Attributes, attribute.String("http.route", "GET /review/{account}/{cycle}")) {
		t.Errorf("no http.route: %v", s.Attributes)
	}
	if got := s.SpanContext.TraceID().String(); got != "4bf92f3577b34da6a3ce929d0e0e4736" || s.Parent.SpanID().String() != "00f067aa0ba902b7" {
		t.Errorf("the caller's trace is not continued: trace %s, parent %s", got, s.Parent.SpanID())
	}
	if v, ok := s.Resource.Set().Value("service.name"); !ok || v.AsString() != "churnwatch-test" {
		t.Errorf("service.name %v", v)
	}
}

func greet(ctx context.Context, name string) (string, error) { return "hello " + name, nil }

func hello(ctx workflow.Context, name string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	var out string
	err := workflow.ExecuteActivity(ctx, greet, name).Get(ctx, &out)
	return out, err
}

// TestWorkflowSpans: the interceptor New hands the client traces the
// workflows and activities of the workers built on it.
func TestWorkflowSpans(t *testing.T) {
	tr, exp := newTracing(t)
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	var wi []interceptor.WorkerInterceptor
	for _, i := range tr.Interceptors() {
		wi = append(wi, i.(interceptor.WorkerInterceptor))
	}
	env.SetWorkerOptions(worker.Options{Interceptors: wi})
	env.RegisterWorkflow(hello)
	env.RegisterActivity(greet)
	env.ExecuteWorkflow(hello, "dana")
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range exp.GetSpans() {
		names = append(names, s.Name)
	}
	for _, want := range []string{"RunWorkflow:hello", "StartActivity:greet", "RunActivity:greet"} {
		if !slices.Contains(names, want) {
			t.Errorf("no span %s in %v", want, names)
		}
	}
}
