package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/otlptranslator"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
)

// newMeterProvider is the OpenTelemetry meter the Temporal SDK reports to,
// read into reg at each scrape. The SDK's names already start with
// temporal_; its timers are in seconds and get buckets in seconds (the
// OpenTelemetry default buckets are for milliseconds).
func newMeterProvider(reg prometheus.Registerer) (*sdkmetric.MeterProvider, error) {
	exp, err := otelprom.New(
		otelprom.WithRegisterer(reg),
		otelprom.WithoutTargetInfo(),
		otelprom.WithoutScopeInfo(),
		otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes),
	)
	if err != nil {
		return nil, fmt.Errorf("temporal metrics exporter: %w", err)
	}
	seconds := sdkmetric.NewView(
		sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram, Unit: "s"},
		sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{
			Boundaries: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}},
	)
	return sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithView(seconds)), nil
}

// TemporalHandler is the Temporal SDK's metrics handler, for the client
// options (temporalclient.WithMetrics): the workers built on that client
// report through it too. Nil Metrics give the SDK's no-op handler.
func (m *Metrics) TemporalHandler() client.MetricsHandler {
	if m == nil {
		return client.MetricsNopHandler
	}
	return temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter: m.meters.Meter("go.temporal.io/sdk"),
		// Counters only grow: exported as Prometheus counters (_total).
		UseMonotonicCounters: true,
		// The default panics; a metric the meter refuses is not worth a
		// worker.
		OnError: func(err error) { m.logger.Warn("temporal metric", "error", err) },
	})
}
