// Command starter is Churnwatch's command line: it scores snapshot files
// offline, starts and drives account reviews on Temporal, and prints the
// leadership views. It is a Temporal client only; it never links the server.
//
// The commands and their JSON are a contract (docs/cli.md).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/churnwatch/churnwatch/buildinfo"
	"github.com/churnwatch/churnwatch/config"
)

// command runs one subcommand with its arguments, printing results to out.
type command struct {
	run     func(ctx context.Context, args []string, out io.Writer) error
	summary string
}

var commands = map[string]command{
	"score":     {runScore, "score snapshot files offline and print the ranked risk report"},
	"backtest":  {runBacktest, "replay the model over history against known churn dates"},
	"calibrate": {runCalibrate, "fit the model's points and thresholds to churn history; writes a proposal, applies nothing"},
	"import":    {runImport, "convert other exports (ravenstack, events) into snapshot files"},
	"scan":      {runScan, "ingest snapshots, score them and start reviews for at-risk accounts"},
	"reviews":   {runReviews, "list reviews (reviews list [--state S] [--owner CSM] --json)"},
	"review":    {runReview, "show, approve or reject a review; record progress and its outcome"},
	"summary":   {runSummary, "print the leadership summary (--format json|md|csv)"},
	"audit":     {runAudit, "audit decision packets (audit packets [--json])"},
	"register":  {runRegister, "export the risk register as CSV"},
	"config":    {runConfig, "print the effective configuration, secrets masked"},
	"users":     {runUsers, "manage local users: add, list, disable, enable, password, token"},
	"digest":    {runDigest, "email each user their queue of waiting reviews now (digest send [--week W])"},
}

// errUsage marks errors in how a command was called: exit status 2.
type errUsage struct{ err error }

func (e errUsage) Error() string { return e.err.Error() }
func (e errUsage) Unwrap() error { return e.err }

func usageError(err error) error { return errUsage{err} }

// newFlagSet returns a flag set with --config and the Temporal flags every
// command accepts.
func newFlagSet(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard) // main prints the error once
	config.AddFlags(fs, "temporal-address", "namespace", "data-dir", "store-dsn", "log-level")
	return fs
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return 2
	}
	switch {
	case isHelp(args[0]) || args[0] == "help" && len(args) == 1:
		printUsage(stdout)
		return 0
	case args[0] == "help": // starter help CMD [SUB] is starter CMD [SUB] --help
		return run(append(slices.Clone(args[1:]), "--help"), stdout, stderr)
	case args[0] == "--version":
		fmt.Fprintln(stdout, buildinfo.String("starter"))
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "starter: unknown command %q\n\n", args[0])
		printUsage(stderr)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx = withStderr(ctx, stderr) // notices for the person, apart from the output
	err := cmd.run(ctx, args[1:], stdout)
	switch {
	case err == nil:
		return 0
	case answerHelp(stdout, args[0], err):
		return 0
	}
	fmt.Fprintf(stderr, "starter %s: %v\n", args[0], err)
	printValidFlags(stderr, err)
	if errors.As(err, new(errUsage)) || errors.Is(err, pflag.ErrHelp) {
		return 2
	}
	return 1
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: starter COMMAND [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %-9s %s\n", name, commands[name].summary)
	}
	fmt.Fprintln(w, "\nEvery command takes --config FILE; commands that talk to Temporal take --temporal-address and --namespace.")
	fmt.Fprintln(w, "`starter help COMMAND` (or `starter COMMAND --help`) shows a command's flags and examples; `starter --version` the build.")
}

// splitSub separates a subcommand ("reviews list") from its flags.
func splitSub(args []string, allowed ...string) (string, []string, error) {
	if len(args) > 0 && isHelp(args[0]) {
		return "", nil, subcommandHelp{allowed}
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return "", nil, usageError(fmt.Errorf("missing subcommand (one of %s)", strings.Join(allowed, ", ")))
	}
	for _, a := range allowed {
		if args[0] == a {
			return a, args[1:], nil
		}
	}
	return "", nil, usageError(fmt.Errorf("unknown subcommand %q (one of %s)", args[0], strings.Join(allowed, ", ")))
}

// inputFlag adds the repeatable --input flag of the commands that read
// snapshot files.
func inputFlag(fs *pflag.FlagSet) *[]string {
	return fs.StringArray("input", nil, "snapshot file (CSV, JSON or NDJSON); repeatable")
}

// checkInputs refuses stray arguments and a missing --input.
func checkInputs(fs *pflag.FlagSet, inputs []string) error {
	if fs.NArg() > 0 {
		return usageError(fmt.Errorf("unexpected argument %q (give files with --input)", fs.Arg(0)))
	}
	if len(inputs) == 0 {
		return usageError(errors.New("no input: give at least one --input FILE"))
	}
	return nil
}
