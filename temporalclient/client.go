// Package temporalclient dials the Temporal cluster the configuration names:
// the embedded server on loopback by default, or a remote cluster with TLS
// and an API key. The worker and the starter both dial through it.
package temporalclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdklog "go.temporal.io/sdk/log"

	"github.com/churnwatch/churnwatch/codec"
	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/workflows"
)

// SearchAttributes are the custom search attributes the reviews keep.
var SearchAttributes = map[string]enumspb.IndexedValueType{
	workflows.AttrAccountID:   enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	workflows.AttrOwner:       enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	workflows.AttrRiskTier:    enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	workflows.AttrRiskScore:   enumspb.INDEXED_VALUE_TYPE_INT,
	workflows.AttrReviewState: enumspb.INDEXED_VALUE_TYPE_KEYWORD,
}

// Option adds to the client options Dial builds: the worker's metrics and
// tracing, which the starter (it dials too) goes without.
type Option func(*client.Options)

// WithMetrics reports the SDK's own metrics (the temporal_ series) to h; the
// workers built on the client report through it too.
func WithMetrics(h client.MetricsHandler) Option {
	return func(o *client.Options) { o.MetricsHandler = h }
}

// WithInterceptors adds client interceptors; one that also intercepts
// workers (tracing) applies to the workers built on the client.
func WithInterceptors(is ...interceptor.ClientInterceptor) Option {
	return func(o *client.Options) { o.Interceptors = append(o.Interceptors, is...) }
}

// Dial connects to the configured frontend.
func Dial(ctx context.Context, cfg config.Config, logger *slog.Logger, options ...Option) (client.Client, error) {
	opts := client.Options{
		HostPort:  cfg.FrontendAddress(),
		Namespace: cfg.Temporal.Namespace,
		Logger:    sdklog.NewStructuredLogger(logger),
	}
	for _, o := range options {
		o(&opts)
	}
	// With a payload key every payload is sealed before it reaches the
	// server: notes, evidence and drafts are ciphertext in its database.
	if key := cfg.Temporal.PayloadKey; key != "" {
		pc, err := codec.New(key)
		if err != nil {
			return nil, fmt.Errorf("temporal.payload_key: %w", err)
		}
		opts.DataConverter = pc.DataConverter()
	}
	t := cfg.Temporal
	if t.TLS.Enabled || t.TLS.CertFile != "" || t.TLS.CAFile != "" {
		tc, err := tlsConfig(t.TLS)
		if err != nil {
			return nil, err
		}
		opts.ConnectionOptions.TLS = tc
	}
	if t.APIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(t.APIKey)
		if opts.ConnectionOptions.TLS == nil {
			opts.ConnectionOptions.TLS = &tls.Config{}
		}
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("dial temporal at %s (namespace %s): %w", opts.HostPort, opts.Namespace, err)
	}
	return c, nil
}

func tlsConfig(t config.TLS) (*tls.Config, error) {
	tc := &tls.Config{ServerName: t.ServerName, MinVersion: tls.VersionTLS12}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("temporal.tls.cert_file: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("temporal.tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("temporal.tls.ca_file: %s holds no PEM certificate", t.CAFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// EnsureSearchAttributes registers the reviews' search attributes on a
// cluster that lacks them (the embedded server registers them at start).
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	have, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range SearchAttributes {
		if _, ok := have.GetCustomAttributes()[name]; !ok {
			missing[name] = typ
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if _, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace:        namespace,
		SearchAttributes: missing,
	}); err != nil {
		return fmt.Errorf("register search attributes %v: %w", keys(missing), err)
	}
	return nil
}

func keys(m map[string]enumspb.IndexedValueType) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
