package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/simulate"
	"github.com/churnwatch/churnwatch/snapshot"
	"github.com/churnwatch/churnwatch/store"
)

// writeBook writes a small simulated book and its churn to dir.
func writeBook(t *testing.T, dir string) (history, churn string) {
	t.Helper()
	rows, ch := simulate.Portfolio(simulate.Options{Accounts: 200, Weeks: 40, Seed: 21, ChurnRate: 0.2,
		Start: time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)})
	history, churn = filepath.Join(dir, "history.csv"), filepath.Join(dir, "churn.csv")
	for _, f := range []struct {
		path  string
		write func(*os.File) error
	}{
		{history, func(f *os.File) error { return snapshot.WriteCSV(f, rows) }},
		{churn, func(f *os.File) error { return simulate.WriteChurnCSV(f, ch) }},
	} {
		fh, err := os.Create(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.write(fh); err != nil {
			t.Fatal(err)
		}
		if err := fh.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return history, churn
}

func TestCalibrateCommand(t *testing.T) {
	dir := t.TempDir()
	history, churn := writeBook(t, dir)
	dataDir := filepath.Join(dir, "data")
	out, errOut, code := runStarter("calibrate", "--input", history, "--churn", churn, "--data-dir", dataDir, "--seed", "3", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep calibrateReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if rep.Accounts != 200 || rep.FitAccounts+rep.HoldoutAccounts != 200 || rep.HoldoutChurners == 0 || rep.Seed != 3 {
		t.Errorf("accounts %d = %d fitted + %d held back (%d churners), seed %d", rep.Accounts, rep.FitAccounts, rep.HoldoutAccounts, rep.HoldoutChurners, rep.Seed)
	}
	if len(rep.Changes) == 0 || len(rep.HitRates) == 0 || rep.Current.Accounts != rep.HoldoutAccounts || rep.GBM.Accounts != rep.HoldoutAccounts {
		t.Errorf("changes %d, hit rates %d, current on %d, gbm on %d accounts", len(rep.Changes), len(rep.HitRates), rep.Current.Accounts, rep.GBM.Accounts)
	}
	want := filepath.Join(dataDir, "calibration", "risk-"+rep.ProposedHash+".yaml")
	if rep.ProposalFile != want {
		t.Errorf("proposal written to %s, want %s", rep.ProposalFile, want)
	}
	// The proposal, given as the config, is the proposed model.
	out, errOut, code = runStarter("config", "--config", want)
	if code != 0 || !strings.Contains(out, "elevated: "+strconv.Itoa(rep.ProposedThresholds.Elevated)) {
		t.Errorf("config --config proposal: exit %d, %s\n%s", code, errOut, out)
	}

	// The text report names what it wrote and that nothing is applied; the
	// same seed proposes the same change.
	out, errOut, code = runStarter("calibrate", "--input", history, "--churn", churn, "--data-dir", dataDir, "--seed", "3")
	if code != 0 {
		t.Fatalf("text: exit %d: %s", code, errOut)
	}
	for _, s := range []string{"Hit rates", "Proposed points", "Held-back accounts", "Nothing is applied", want} {
		if !strings.Contains(out, s) {
			t.Errorf("text report lacks %q:\n%s", s, out)
		}
	}
}

func TestCalibrateNeverWritesOverTheConfig(t *testing.T) {
	dir := t.TempDir()
	history, churn := writeBook(t, dir)
	cfgFile := filepath.Join(dir, "churnwatch.yaml")
	if err := os.WriteFile(cfgFile, []byte("data_dir: "+filepath.Join(dir, "data")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runStarter("calibrate", "--config", cfgFile, "--input", history, "--churn", churn, "--out", cfgFile)
	if code != 2 || !strings.Contains(errOut, "config file in use") {
		t.Errorf("--out the config file: exit %d, %s", code, errOut)
	}
	if b, _ := os.ReadFile(cfgFile); !strings.HasPrefix(string(b), "data_dir: ") || strings.Contains(string(b), "risk:") {
		t.Errorf("the config file was changed:\n%s", b)
	}
}

func TestCalibrateCommandUsage(t *testing.T) {
	for _, args := range [][]string{
		{"calibrate", "--churn", "x.csv"},
		{"calibrate", "--input", "../examples/history.csv"},
		{"calibrate", "--input", "a.csv", "--churn", "b.csv", "--holdout", "1"},
		{"calibrate", "--input", "a.csv", "--churn", "b.csv", "--holdout", "0"},
	} {
		if _, errOut, code := runStarter(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errOut)
		}
	}
	// --outcomes with no store on this machine says so rather than create one.
	dir := t.TempDir()
	_, errOut, code := runStarter("calibrate", "--input", "../examples/history.csv", "--churn", "../examples/churn.csv",
		"--data-dir", dir, "--outcomes")
	if code != 1 || !strings.Contains(errOut, "no store on this machine") {
		t.Errorf("--outcomes without a store: exit %d, %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "churnwatch.db")); err == nil {
		t.Error("--outcomes created a store")
	}
}

func TestCalibrateReadsOutcomesFromTheStore(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	ctx := context.Background()
	st, err := store.Open(ctx, "", dataDir)
	if err != nil {
		t.Fatal(err)
	}
	for i, kind := range []review.OutcomeKind{review.Churned, review.FalsePositive, ""} {
		p := review.Packet{ReviewID: "review/A-" + strconv.Itoa(i) + "/2026-11-16", AccountID: "A-" + strconv.Itoa(i), Cycle: "2026-11-16",
			State: review.Closed, Severity: risk.Elevated, Owner: "dana",
			Assessment: risk.Assessment{AccountID: "A-" + strconv.Itoa(i), Tier: risk.Elevated, Signals: []risk.Signal{{ID: "login_drop", Points: 14}}}}
		if kind != "" {
			p.Outcome = &review.Outcome{Kind: kind, Actor: "dana"}
		}
		if err := st.SavePacket(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	history, churn := writeBook(t, dir)
	out, errOut, code := runStarter("calibrate", "--input", history, "--churn", churn, "--data-dir", dataDir, "--outcomes", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep calibrateReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, h := range rep.HitRates {
		if h.Source == "decisions" && h.Kind == "signal" && h.ID == "login_drop" {
			found = h.Hits == 1 && h.N == 2
		}
	}
	if rep.Decisions != 2 || !found {
		t.Errorf("decisions %d, hit rates %+v", rep.Decisions, rep.HitRates)
	}
}
