package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

// helpText is what `starter CMD --help` prints beside the flags of CMD.
type helpText struct {
	usage    string   // the synopsis, after "usage: "
	about    string   // one line; for a top-level command, its summary in commands
	examples []string // at least one
}

// helps holds the help of every flag set, by its name ("scan",
// "review show"), and of every command that takes a subcommand, by the
// command's name.
var helps = map[string]helpText{
	"score": {usage: "starter score --input FILE [--input FILE ...] [--as-of YYYY-MM-DD] [--json]", examples: []string{
		"starter score --input examples/portfolio.csv",
		"starter score --input week46.csv --input week47.json --as-of 2026-11-16 --json",
	}},
	"backtest": {usage: "starter backtest --input FILE [--input FILE ...] --churn FILE [--json] [--horizon-days N] [--warmup-weeks N] [--from DATE] [--to DATE]", examples: []string{
		"starter backtest --input examples/history.csv --churn examples/churn.csv",
		"starter backtest --input examples/history.csv --churn examples/churn.csv --horizon-days 90 --json",
	}},
	"calibrate": {usage: "starter calibrate --input FILE [--input FILE ...] --churn FILE [--holdout 0.3] [--seed N] [--out FILE] [--outcomes] [--json]", examples: []string{
		"starter calibrate --input examples/history.csv --churn examples/churn.csv",
		"starter calibrate --input history.csv --churn churn.csv --holdout 0.3 --seed 7 --out proposal.yaml --outcomes --json",
	}},
	"import": {usage: "starter import SUBCOMMAND [flags]", examples: []string{
		"starter import ravenstack --dir ravenstack/ --out snapshots.csv --churn-out churn.csv",
	}},
	"import ravenstack": {usage: "starter import ravenstack --dir DIR --out FILE [--churn-out FILE] [--owner CSM] [--json]",
		about: "convert the RavenStack sample export into snapshots (and churn dates)", examples: []string{
			"starter import ravenstack --dir ravenstack/ --out snapshots.csv --churn-out churn.csv",
		}},
	"import events": {usage: "starter import events --input FILE [--accounts FILE] --out FILE [--json]",
		about: "turn an event log into weekly usage columns, merged into account rows", examples: []string{
			"starter import events --input events.csv --accounts accounts.csv --out snapshots.csv",
			"starter import events --input events.csv --out - > usage.csv",
		}},
	"scan": {usage: "starter scan --input FILE [--input FILE ...] [--as-of YYYY-MM-DD] [--json]", examples: []string{
		"starter scan --input examples/portfolio.csv",
		"starter scan --input week47.csv --as-of 2026-11-16 --json",
	}},
	"reviews": {usage: "starter reviews list [flags]", examples: []string{
		"starter reviews list --state awaiting_approval",
	}},
	"reviews list": {usage: "starter reviews list [--state STATE] [--owner CSM] [--json]",
		about: "list reviews, through the worker's API when --server is set, else from Temporal", examples: []string{
			"starter reviews list --state awaiting_approval",
			"starter reviews list --owner dana --json",
		}},
	"review": {usage: "starter review SUBCOMMAND REVIEW_ID [flags]", examples: []string{
		"starter review show review/A-1001/2026-11-16",
	}},
	"review show": {usage: "starter review show REVIEW_ID [--json]",
		about: "print a review's packet: evidence, brief, save plan, outreach draft, decision", examples: []string{
			"starter review show review/A-1001/2026-11-16",
			"starter review show review/A-1001/2026-11-16 --json",
		}},
	"review approve": {usage: "starter review approve REVIEW_ID --as CSM [--edit-file FILE] [--cause TEXT] [--note TEXT]",
		about: "approve a review's plan and outreach, as drafted or as edited", examples: []string{
			`starter review approve review/A-1001/2026-11-16 --as dana --note "calling the sponsor today"`,
			"CHURNWATCH_TOKEN=cwt_... starter review approve review/A-1001/2026-11-16 --server http://127.0.0.1:8080 --edit-file outreach.txt",
		}},
	"review reject": {usage: "starter review reject REVIEW_ID --as CSM --reason TEXT [--note TEXT]",
		about: "reject a review, saying why", examples: []string{
			`starter review reject review/A-1001/2026-11-16 --as dana --reason "renewal already signed"`,
		}},
	"review progress": {usage: "starter review progress REVIEW_ID --as CSM --event outreach_sent|customer_responded [--note TEXT]",
		about: "record the outreach going out or the customer answering", examples: []string{
			"starter review progress review/A-1001/2026-11-16 --as dana --event outreach_sent",
		}},
	"review outcome": {usage: "starter review outcome REVIEW_ID --as CSM --result saved|churned|still_at_risk|false_positive [--note TEXT]",
		about: "close a review with its outcome", examples: []string{
			"starter review outcome review/A-1001/2026-11-16 --as dana --result saved",
		}},
	"summary": {usage: "starter summary [--week YYYY-MM-DD] [--format json|md|csv]", examples: []string{
		"starter summary --format md",
		"starter summary --week 2026-11-16 --format json",
	}},
	"audit": {usage: "starter audit packets [flags]", examples: []string{
		"starter audit packets",
	}},
	"audit packets": {usage: "starter audit packets [--week YYYY-MM-DD] [--json]",
		about: "list the decision packets of elevated and critical accounts and the parts each lacks", examples: []string{
			"starter audit packets",
			"starter audit packets --week 2026-11-16 --json",
		}},
	"register": {usage: "starter register [--week YYYY-MM-DD]", examples: []string{
		"starter register > register.csv",
	}},
	"config": {usage: "starter config [--json] [flags]", examples: []string{
		"starter config",
		"starter config --config churnwatch.yaml --json",
	}},
	"users": {usage: "starter users SUBCOMMAND [NAME] [flags]", examples: []string{
		"starter users add dana --role csm --manager mia --password-stdin < dana.pw",
	}},
	"users add": {usage: "starter users add NAME --role ROLE [--manager NAME] [--email ADDRESS] (--password-stdin | --sso-only)",
		about: "add a local user", examples: []string{
			"starter users add dana --role csm --manager mia --email dana@example.com --password-stdin < dana.pw",
			"starter users add ops --role admin --sso-only",
		}},
	"users list": {usage: "starter users list [--json]", about: "list the users, never their passwords", examples: []string{
		"starter users list",
	}},
	"users disable": {usage: "starter users disable NAME", about: "stop a user's sign-ins, sessions and tokens at once", examples: []string{
		"starter users disable dana",
	}},
	"users enable": {usage: "starter users enable NAME", about: "let a disabled user back in", examples: []string{
		"starter users enable dana",
	}},
	"users password": {usage: "starter users password NAME --password-stdin", about: "replace a user's password", examples: []string{
		"starter users password dana --password-stdin < dana.pw",
	}},
	"users token": {usage: "starter users token NAME", about: "print a new personal API token, once", examples: []string{
		"starter users token dana",
	}},
}

// flagError is a failure to parse a command's flags, or a request for its
// help (pflag.ErrHelp); it keeps the flag set so that run can print the
// command's help or the flags it takes.
type flagError struct {
	fs  *pflag.FlagSet
	err error
}

func (e flagError) Error() string { return e.err.Error() }
func (e flagError) Unwrap() error { return e.err }

// parseFlags parses args into fs.
func parseFlags(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return flagError{fs, err}
	}
	return nil
}

// subcommandHelp is `starter CMD --help` for a command that takes a
// subcommand: a request, not a failure.
type subcommandHelp struct{ subs []string }

func (subcommandHelp) Error() string { return "help requested" }

// isHelp says whether arg asks for help.
func isHelp(arg string) bool { return arg == "-h" || arg == "--help" }

// answerHelp prints the help err asks for, if it asks for one, and says
// whether it did.
func answerHelp(out io.Writer, name string, err error) bool {
	var sub subcommandHelp
	var fe flagError
	switch {
	case errors.As(err, &sub):
		printCommandHelp(out, name, sub.subs)
	case errors.Is(err, pflag.ErrHelp) && errors.As(err, &fe):
		printFlagsHelp(out, fe.fs)
	default:
		return false
	}
	return true
}

// printFlagsHelp prints the help of one command or subcommand.
func printFlagsHelp(out io.Writer, fs *pflag.FlagSet) {
	h := helps[fs.Name()]
	about := h.about
	if about == "" {
		about = commands[fs.Name()].summary
	}
	fmt.Fprintf(out, "usage: %s\n\n%s\n\nflags:\n%s", h.usage, about, fs.FlagUsages())
	printExamples(out, h.examples)
}

// printCommandHelp prints the help of a command that takes a subcommand:
// its subcommands with what each does.
func printCommandHelp(out io.Writer, name string, subs []string) {
	h := helps[name]
	fmt.Fprintf(out, "usage: %s\n\n%s\n\nsubcommands:\n", h.usage, commands[name].summary)
	for _, sub := range subs {
		s := helps[name+" "+sub]
		fmt.Fprintf(out, "  %s\n      %s\n", s.usage, s.about)
	}
	printExamples(out, h.examples)
	fmt.Fprintf(out, "\n`starter %s SUBCOMMAND --help` shows a subcommand's flags and examples.\n", name)
}

func printExamples(out io.Writer, examples []string) {
	fmt.Fprintf(out, "\nexamples:\n  %s\n", strings.Join(examples, "\n  "))
}

// printValidFlags follows a flag error with the flags the command takes.
func printValidFlags(out io.Writer, err error) {
	var fe flagError
	if !errors.As(err, &fe) {
		return
	}
	name := fe.fs.Name()
	fmt.Fprintf(out, "\nflags of starter %s:\n%s\n`starter %s --help` shows examples.\n", name, fe.fs.FlagUsages(), name)
}
