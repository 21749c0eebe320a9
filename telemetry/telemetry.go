// Package telemetry traces the worker over OpenTelemetry when otel.endpoint
// is set: the Temporal SDK's tracing interceptor on the client and its
// workers (a span per workflow, activity, signal, query and update, linked
// across them through Temporal headers) and a span per HTTP request,
// exported over OTLP/gRPC in batches.
//
// Without an endpoint nothing is built: no interceptor, no HTTP wrapper,
// no exporter, so tracing costs nothing when it is off. The process-wide
// OpenTelemetry globals are left alone (the embedded Temporal server is in
// the same process); the provider is handed to what uses it.
package telemetry

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	noopmetric "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"

	"github.com/churnwatch/churnwatch/config"
)

// Tracing is the worker's tracing; its zero value is off.
type Tracing struct {
	provider     *sdktrace.TracerProvider
	interceptors []interceptor.ClientInterceptor
}

// Option changes how New builds the tracing.
type Option func(*options)

type options struct{ exporter sdktrace.SpanExporter }

// WithExporter exports to e, span by span as each ends, instead of OTLP:
// tests hand it an in-memory exporter. Tracing is then on whatever the
// endpoint.
func WithExporter(e sdktrace.SpanExporter) Option {
	return func(o *options) { o.exporter = e }
}

// New builds the tracing cfg asks for: off without an endpoint.
func New(ctx context.Context, cfg config.OTel, opts ...Option) (*Tracing, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if cfg.Endpoint == "" && o.exporter == nil {
		return &Tracing{}, nil
	}
	spans := sdktrace.WithSyncer(o.exporter)
	if o.exporter == nil {
		grpcOpts := []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(cfg.Endpoint)}
		if cfg.Insecure {
			grpcOpts = append(grpcOpts, otlptracegrpc.WithInsecure())
		}
		// The connection is made lazily: a collector that is down loses
		// spans, never the worker.
		exp, err := otlptracegrpc.New(ctx, grpcOpts...)
		if err != nil {
			return nil, fmt.Errorf("otel.endpoint %s: %w", cfg.Endpoint, err)
		}
		spans = sdktrace.WithBatcher(exp)
	}
	tp := sdktrace.NewTracerProvider(spans, sdktrace.WithResource(resource.NewSchemaless(
		attribute.String("service.name", cmp.Or(cfg.ServiceName, "churnwatch")))))
	i, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{Tracer: tp.Tracer("go.temporal.io/sdk")})
	if err != nil {
		_ = tp.Shutdown(ctx)
		return nil, fmt.Errorf("temporal tracing interceptor: %w", err)
	}
	return &Tracing{provider: tp, interceptors: []interceptor.ClientInterceptor{i}}, nil
}

// Enabled says whether spans are recorded.
func (t *Tracing) Enabled() bool { return t != nil && t.provider != nil }

// Interceptors are the client interceptors to dial Temporal with
// (temporalclient.WithInterceptors); the tracing one also intercepts the
// workers built on the client. None when tracing is off.
func (t *Tracing) Interceptors() []interceptor.ClientInterceptor {
	if !t.Enabled() {
		return nil
	}
	return t.interceptors
}

// Handler traces the requests h serves, continuing a trace a caller sends
// in a traceparent header; h itself when tracing is off. route names a
// request's route (metrics.Route), for the span's name and http.route: the
// span starts before routing, and pages reach the mux through the session
// middleware's copy of the request, so the route is looked up, not read.
func (t *Tracing) Handler(h http.Handler, route func(*http.Request) string) http.Handler {
	if !t.Enabled() {
		return h
	}
	routed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		trace.SpanFromContext(r.Context()).SetAttributes(attribute.String("http.route", route(r)))
		h.ServeHTTP(w, r)
	})
	return otelhttp.NewHandler(routed, "http",
		otelhttp.WithTracerProvider(t.provider),
		otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})),
		// The request metrics are Prometheus's (package metrics).
		otelhttp.WithMeterProvider(noopmetric.NewMeterProvider()),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return spanName(r.Method, route(r)) }),
	)
}

// spanName is "METHOD route": a route of a mux pattern with a method
// ("GET /inbox") names the method already.
func spanName(method, route string) string {
	if strings.Contains(route, " ") {
		return route
	}
	return method + " " + route
}

// Shutdown exports the spans still buffered and stops.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	return t.provider.Shutdown(ctx)
}
