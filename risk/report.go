package risk

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
)

// Report is the ranked result of scoring a batch: the JSON object that
// `starter score --json` prints (shared/contract/cli.md).
type Report struct {
	AsOf     string               `json:"as_of"`
	Accounts []Assessment         `json:"accounts"`
	Rejected []snapshot.Rejection `json:"rejected"`
	Warnings []string             `json:"warnings"`
}

// NewReport scores every account of the batch as of asOf (zero: the latest
// week in the batch) and carries the batch's rejections and warnings.
func (m Model) NewReport(b snapshot.Batch, asOf time.Time) Report {
	if asOf.IsZero() {
		asOf = LatestWeek(b.Rows)
	}
	return m.report(m.ScorePortfolio(b.Rows, asOf), b, asOf)
}

// NewTableReport is NewReport for a batch read with snapshot.ReadTable:
// the rows are in t, the rejections and warnings in b.
func (m Model) NewTableReport(t *snapshot.Table, b snapshot.Batch, asOf time.Time) Report {
	if asOf.IsZero() {
		asOf = tableLatestWeek(t)
	}
	return m.report(m.ScoreTable(t, asOf), b, asOf)
}

func (m Model) report(accounts []Assessment, b snapshot.Batch, asOf time.Time) Report {
	r := Report{
		Accounts: accounts,
		Rejected: b.Rejected,
		Warnings: b.Warnings,
	}
	if !asOf.IsZero() {
		r.AsOf = snapshot.FormatDate(snapshot.Monday(asOf))
	}
	if r.Accounts == nil {
		r.Accounts = []Assessment{}
	}
	if r.Rejected == nil {
		r.Rejected = []snapshot.Rejection{}
	}
	if r.Warnings == nil {
		r.Warnings = []string{}
	}
	return r
}

// WriteTable prints the report for people: one line per account, most
// urgent first, with its strongest signals, then the rejected rows.
func (r Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Risk as of %s: %d accounts\n\n", r.AsOf, len(r.Accounts))
	fmt.Fprintln(tw, "#\tTIER\tSCORE\tACCOUNT\tOWNER\tTOP SIGNALS")
	for _, a := range r.Accounts {
		var top []string
		for i, s := range a.Signals {
			if i == 3 {
				top = append(top, fmt.Sprintf("+%d more", len(a.Signals)-3))
				break
			}
			top = append(top, fmt.Sprintf("%s(%d)", s.ID, s.Points))
		}
		if a.Tier == InsufficientEvidence && len(a.Missing) > 0 {
			top = append(top, "missing: "+strings.Join(a.Missing, ","))
		}
		name := a.AccountName
		if name == "" {
			name = a.AccountID
		} else {
			name += " (" + a.AccountID + ")"
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\n", a.Priority, a.Tier, a.Score, name, a.Owner, strings.Join(top, ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Rejected) > 0 {
		fmt.Fprintf(w, "\n%d rejected rows:\n", len(r.Rejected))
		for _, x := range r.Rejected {
			fmt.Fprintf(w, "  %s row %d, %s: %s\n", x.File, x.Row, x.Field, x.Reason)
		}
	}
	for _, s := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", s)
	}
	return nil
}
