package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/importer"
	"github.com/churnwatch/churnwatch/snapshot"
)

// importReport is what `starter import ... --json` prints.
type importReport struct {
	Source   string               `json:"source"`
	Out      string               `json:"out"`
	ChurnOut string               `json:"churn_out,omitempty"`
	Rows     int                  `json:"rows"`
	Accounts int                  `json:"accounts"`
	Churners int                  `json:"churners,omitempty"`
	Partial  bool                 `json:"partial,omitempty"` // usage columns only (no --accounts)
	Rejected []snapshot.Rejection `json:"rejected"`
	Warnings []string             `json:"warnings"`
}

// runImport converts other systems' exports into snapshot files:
//
//	starter import ravenstack --dir DIR --out snapshots.csv [--churn-out churn.csv] [--owner CSM] [--json]
//	starter import events --input events.csv [--accounts accounts.csv] --out snapshots.csv [--json]
//
// --out - writes to standard output (and then the summary is not printed).
// Rejected rows are listed with file, row and field; the valid rows are
// still written. It fails only when nothing could be imported.
func runImport(ctx context.Context, args []string, out io.Writer) error {
	sub, rest, err := splitSub(args, "ravenstack", "events")
	if err != nil {
		return err
	}
	fs := newFlagSet("import " + sub)
	outPath := fs.String("out", "", "snapshot CSV to write (- for standard output)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	var dir, churnOut, owner, input, accounts *string
	if sub == "ravenstack" {
		dir = fs.String("dir", "", "directory holding the ravenstack_*.csv files")
		churnOut = fs.String("churn-out", "", "churn CSV to write (account_id,churn_date)")
		owner = fs.String("owner", "unassigned", "owner for every account (the export names no CSM)")
	} else {
		input = fs.String("input", "", "event log CSV: account_id,user_id,timestamp,event")
		accounts = fs.String("accounts", "", "snapshot or account-list CSV to merge the usage into; without it, a partial file of usage columns is written")
	}
	if err := parseFlags(fs, rest); err != nil {
		return usageError(err)
	}
	if fs.NArg() > 0 {
		return usageError(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if *outPath == "" {
		return usageError(errors.New("no output: give --out FILE (or --out - for standard output)"))
	}
	if _, err := config.Load(fs); err != nil {
		return err
	}

	rep := importReport{Source: sub, Out: *outPath, Rejected: []snapshot.Rejection{}, Warnings: []string{}}
	var body bytes.Buffer
	switch sub {
	case "ravenstack":
		if *dir == "" {
			return usageError(errors.New("no export: give --dir DIR"))
		}
		res, err := importer.RavenStack(*dir, importer.RavenStackOptions{Owner: *owner})
		if err != nil {
			return err
		}
		rep.Rows, rep.Accounts, rep.Churners = len(res.Rows), countAccounts(res.Rows), len(res.Churn)
		rep.Rejected = append(rep.Rejected, res.Rejected...)
		rep.Warnings = append(rep.Warnings, res.Warnings...)
		if err := snapshot.WriteCSV(&body, res.Rows); err != nil {
			return err
		}
		if *churnOut != "" {
			var cb bytes.Buffer
			if err := importer.WriteChurnCSV(&cb, res.Churn); err != nil {
				return err
			}
			if err := os.WriteFile(*churnOut, cb.Bytes(), 0o644); err != nil {
				return fmt.Errorf("write churn: %w", err)
			}
			rep.ChurnOut = *churnOut
		}
	case "events":
		if *input == "" {
			return usageError(errors.New("no event log: give --input FILE"))
		}
		usage, rejected, warnings, err := importer.ReadEvents(*input)
		if err != nil {
			return err
		}
		rep.Rejected = append(rep.Rejected, rejected...)
		rep.Warnings = append(rep.Warnings, warnings...)
		if *accounts == "" {
			rep.Partial = true
			rep.Rows = len(usage)
			ids := map[string]bool{}
			for _, u := range usage {
				ids[u.AccountID] = true
			}
			rep.Accounts = len(ids)
			if err := importer.WriteUsageCSV(&body, usage); err != nil {
				return err
			}
			rep.Warnings = append(rep.Warnings, "no --accounts given: wrote usage columns only (account_id, week, logins, active_users, dau_mau); merge them with --accounts to get rows that can be scored")
			break
		}
		batch, err := importer.ReadAccounts(*accounts, importer.UsageWeeks(usage))
		if err != nil {
			return err
		}
		rep.Rejected = append(rep.Rejected, batch.Rejected...)
		rep.Warnings = append(rep.Warnings, batch.Warnings...)
		rows, mergeWarnings := importer.MergeUsage(batch.Rows, usage)
		rep.Warnings = append(rep.Warnings, mergeWarnings...)
		rep.Rows, rep.Accounts = len(rows), countAccounts(rows)
		if err := snapshot.WriteCSV(&body, rows); err != nil {
			return err
		}
	}
	if rep.Rows == 0 {
		return fmt.Errorf("nothing imported: no valid rows (%d rejected)", len(rep.Rejected))
	}
	if *outPath == "-" {
		_, err := out.Write(body.Bytes())
		return err
	}
	if err := os.WriteFile(*outPath, body.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write snapshots: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(out, "wrote %d rows for %d accounts to %s\n", rep.Rows, rep.Accounts, rep.Out)
	if rep.ChurnOut != "" {
		fmt.Fprintf(out, "wrote churn dates of %d accounts to %s\n", rep.Churners, rep.ChurnOut)
	}
	printRejected(out, rep.Rejected, rep.Warnings)
	return nil
}

func countAccounts(rows []snapshot.Snapshot) int {
	ids := map[string]bool{}
	for _, r := range rows {
		ids[r.AccountID] = true
	}
	return len(ids)
}
