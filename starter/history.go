package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/churnwatch/churnwatch/backtest"
	"github.com/churnwatch/churnwatch/snapshot"
)

// readHistory reads the snapshot history and the known churn dates that
// backtest and calibrate replay, refusing a history with no valid row
// ("nothing to <verb>"). The churn file's rejected rows come back apart.
func readHistory(inputs []string, churnFile, verb string) (*snapshot.Table, snapshot.Batch, map[string]time.Time, []snapshot.Rejection, error) {
	// A Table, not Snapshots: a history of years takes a fifth of the memory.
	table, batch, err := snapshot.ReadTable(inputs)
	if err != nil {
		return nil, batch, nil, nil, err
	}
	churn, churnRejected, err := backtest.ReadChurnCSV(churnFile)
	if err != nil {
		return nil, batch, nil, nil, err
	}
	if table.Len() == 0 {
		return nil, batch, nil, nil, fmt.Errorf("nothing to %s: no valid rows in %s (%d rejected)", verb, strings.Join(inputs, ", "), len(batch.Rejected))
	}
	return table, batch, churn, churnRejected, nil
}

// printRejected lists a command's rejected input rows and its warnings
// after its text output.
func printRejected(out io.Writer, rejected []snapshot.Rejection, warnings []string) {
	for _, r := range rejected {
		fmt.Fprintf(out, "rejected: %s row %d, %s: %s\n", r.File, r.Row, r.Field, r.Reason)
	}
	for _, w := range warnings {
		fmt.Fprintf(out, "warning: %s\n", w)
	}
}
