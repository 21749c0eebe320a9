package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/churnwatch/churnwatch/config"
)

// runConfig prints the effective configuration with secrets masked.
func runConfig(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("config")
	config.AddFlags(fs, "http-addr", "temporal-port", "llm-base-url", "llm-model")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return usageError(err)
	}
	cfg, err := config.Load(fs)
	if err != nil {
		return err
	}
	settings := cfg.Settings()
	if *asJSON {
		m := make(map[string]any, len(settings))
		for _, s := range settings {
			m[s.Key] = s.Value
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(m)
	}
	for _, s := range settings {
		v, _ := json.Marshal(s.Value)
		fmt.Fprintf(out, "%s: %s\n", s.Key, v)
	}
	return nil
}
