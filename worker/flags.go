package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/churnwatch/churnwatch/buildinfo"
)

// parseArgs parses the worker's command line into fs, adding --version.
// done means the worker should exit at once with code: after --help or
// --version (0, on stdout) or a bad flag (2, with the valid flags on stderr).
func parseArgs(fs *pflag.FlagSet, args []string, stdout, stderr io.Writer) (code int, done bool) {
	version := fs.Bool("version", false, "print the build (version, commit, risk model) and exit")
	fs.SetOutput(io.Discard) // the help and the errors are printed here, once
	if err := fs.Parse(args); errors.Is(err, pflag.ErrHelp) {
		printHelp(stdout, fs)
		return 0, true
	} else if err != nil {
		fmt.Fprintf(stderr, "worker: %v\n\nflags of worker:\n%s", err, fs.FlagUsages())
		return 2, true
	}
	if *version {
		fmt.Fprintln(stdout, buildinfo.String("worker"))
		return 0, true
	}
	return 0, false
}

func printHelp(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprintf(w, `usage: worker [flags]

Runs Churnwatch's workers and its review pages. With no --temporal-address it
starts the embedded Temporal server first (SQLite under --data-dir) and the
Temporal Web UI beside it; with one, it polls that cluster and embeds nothing.

flags:
%s
examples:
  worker --data-dir .churnwatch
  worker --http-addr 127.0.0.1:9090 --temporal-ui-port 0      # no Temporal Web UI
  worker --temporal-address temporal.internal:7233 --namespace churnwatch --store-dsn postgres://churnwatch@db/churnwatch
`, fs.FlagUsages())
}
