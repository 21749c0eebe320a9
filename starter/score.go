package main

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	// scorer unpacks one account at a time from it.
	table, batch, err := snapshot.ReadTable(*inputs)
	if err != nil {
		return err
	}
	report := cfg.Risk.NewTableReport(table, batch, asOf)
	if *asJSON {
		if err := report.WriteJSON(out); err != nil {
			return err
		}
	} else if err := report.WriteTable(out); err != nil {
		return err
	}
	if len(report.Accounts) == 0 {
		if len(batch.Rejected) > 0 {
			r := batch.Rejected[0]
			return fmt.Errorf("no account could be scored: all %d rows were rejected (first: %s row %d, %s: %s)",
				len(batch.Rejected), r.File, r.Row, r.Field, r.Reason)
		}
		return errors.New("no account could be scored: the input holds no rows")
	}
	return nil
}
