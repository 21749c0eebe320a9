package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/pflag"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/temporalclient"
)

// dial loads the configuration and connects to Temporal.
func dial(ctx context.Context, fs *pflag.FlagSet) (client.Client, config.Config, error) {
	cfg, err := config.Load(fs)
	if err != nil {
		return nil, cfg, err
	}
	// The SDK's own chatter is for operators; the CLI prints only warnings.
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, err := temporalclient.Dial(ctx, cfg, logger)
	if err != nil {
		return nil, cfg, fmt.Errorf("%w (is the worker running? start it with `go run ./worker`)", err)
	}
	return c, cfg, nil
}

// plainError reduces a workflow or update failure to the message of the
// innermost application error: Temporal's error chains repeat themselves,
// and a CSM needs the one sentence that says what was wrong.
func plainError(err error) error {
	var app *temporal.ApplicationError
	msg := ""
	for e := err; e != nil; e = errors.Unwrap(e) {
		if errors.As(e, &app) {
			msg = app.Message()
			e = app
		}
	}
	if msg == "" {
		return err
	}
	return errors.New(msg)
}
