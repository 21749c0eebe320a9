package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/snapshot"
)

// runScore scores snapshot files offline and prints the ranked report:
//
//	starter score --input FILE [--input FILE ...] [--as-of YYYY-MM-DD] [--json]
//
// Rejected rows are reported and the rest still scored; it fails only when
// no account could be scored.
func runScore(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("score")
	inputs := inputFlag(fs)
	asOfFlag := fs.String("as-of", "", "score as of the week holding this date (YYYY-MM-DD); default: the latest week in the input")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return usageError(err)
	}
	if err := checkInputs(fs, *inputs); err != nil {
		return err
	}
	var asOf time.Time
	if *asOfFlag != "" {
		t, ok := snapshot.ParseDate(*asOfFlag)
		if !ok {
			return usageError(fmt.Errorf("--as-of %q is not a date (YYYY-MM-DD)", *asOfFlag))
		}
		asOf = t
	}
	cfg, err := config.Load(fs)
	if err != nil {
		return err
	}

	// A Table keeps the rows in about a quarter of the memory, and the
	// scorer unpacks one account at a time from it. The report keeps the
	// ranking, not the assessments: the JSON scores each account again as
	// it is written, the table keeps a line per account.
	limitHeap(*inputs)
	table, batch, err := snapshot.ReadTable(*inputs)
	if err != nil {
		return err
	}
	report := cfg.Risk.NewBookReport(table, batch, asOf, !*asJSON)
	if *asJSON {
		if err := report.WriteJSON(out); err != nil {
			return err
		}
	} else if err := report.WriteTable(out); err != nil {
		return err
	}
	if report.Book.Len() == 0 {
		if len(batch.Rejected) > 0 {
			r := batch.Rejected[0]
			return fmt.Errorf("no account could be scored: all %d rows were rejected (first: %s row %d, %s: %s)",
				len(batch.Rejected), r.File, r.Row, r.Field, r.Reason)
		}
		return errors.New("no account could be scored: the input holds no rows")
	}
	return nil
}

// limitHeap keeps the heap near one and a half times the input's size. The
// book's rows are held whole while it is scored (a Table is about the size
// of its CSV), and without a limit the collector lets the heap grow to
// twice what is live before it runs: the process peaked at 2.5 times the
// file. The limit is soft (the runtime exceeds it rather than fail), and a
// GOMEMLIMIT in the environment is the operator's and wins; so does an
// input whose size is unknown.
func limitHeap(paths []string) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	var size int64
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			return
		}
		size += fi.Size()
	}
	debug.SetMemoryLimit(max(64<<20, size*3/2+32<<20))
}
