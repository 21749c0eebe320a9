package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBacktestCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"backtest", "--input", "../examples/history.csv", "--churn", "../examples/churn.csv", "--json"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	for _, k := range []string{"accounts", "churners", "flagged_churners", "median_lead_days", "recall_30d",
		"recall_60d", "precision", "false_positive_rate", "baseline", "first_signals_churners", "first_signals_false_alarms", "rejected"} {
		if _, ok := got[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if got["accounts"].(float64) != 60 || got["churners"].(float64) == 0 {
		t.Errorf("accounts %v, churners %v", got["accounts"], got["churners"])
	}
}

func TestBacktestCommandUsage(t *testing.T) {
	for _, args := range [][]string{
		{"backtest", "--churn", "x.csv"},
		{"backtest", "--input", "../examples/history.csv"},
		{"backtest", "--input", "a.csv", "--churn", "b.csv", "--from", "yesterday"},
	} {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"backtest", "--input", "../examples/history.csv", "--churn", "missing.csv"}, &out, &errOut); code != 1 {
		t.Errorf("missing churn file: exit %d, want 1", code)
	}
}

func TestImportCommands(t *testing.T) {
	dir := t.TempDir()
	snaps, churn := filepath.Join(dir, "s.csv"), filepath.Join(dir, "c.csv")
	var out, errOut bytes.Buffer
	code := run([]string{"import", "ravenstack", "--dir", "../importer/testdata/ravenstack", "--out", snaps, "--churn-out", churn, "--json"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var rep importReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Rows != 5 || rep.Accounts != 2 || rep.Churners != 1 || len(rep.Rejected) != 8 {
		t.Errorf("report %+v", rep)
	}
	if b, _ := os.ReadFile(churn); string(b) != "account_id,churn_date\nA-2,2024-01-19\n" {
		t.Errorf("churn file %q", b)
	}

	out.Reset()
	code = run([]string{"import", "events", "--input", "../importer/testdata/events.csv", "--accounts", "../importer/testdata/accounts.csv", "--out", snaps}, &out, &errOut)
	if code != 0 {
		t.Fatalf("events: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "wrote 3 rows for 1 accounts") || !strings.Contains(out.String(), "accounts.csv row 3, owner") {
		t.Errorf("events summary:\n%s", out.String())
	}

	for _, args := range [][]string{
		{"import"},
		{"import", "csv"},
		{"import", "ravenstack", "--out", snaps},
		{"import", "events", "--input", "x.csv"},
	} {
		if code := run(args, &out, &errOut); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
