package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/draft"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/simulate"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/workflows"
)

// temporalPayloadLimit is the embedded server's limit on one payload
// (limit.blobSize.error): the report used to travel through history whole.
const temporalPayloadLimit = 2 << 20

// fillBook stores what scanning a simulated book of n accounts leaves for
// the report: every account's score as of the book's last week, and for
// each account at risk a review awaiting approval with its offline drafts
// (written straight to the store: the report reads only the store, and
// running thousands of reviews would test the reviews, not the report).
func fillBook(tb testing.TB, cfg config.Config, n int) (atRisk int) {
	tb.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, cfg.Store.DSN, cfg.DataDir)
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	rows, _ := simulate.Portfolio(simulate.Options{Accounts: n, Weeks: 12, Seed: 20261116,
		Start: simulate.BookWeek.AddDate(0, 0, -7*11), Owners: []string{"dana", "li.wei", "marco", "priya"}})
	scored := cfg.Risk.ScorePortfolio(rows, simulate.BookWeek)
	for lo := 0; lo < len(scored); lo += 5_000 {
		if err := st.SaveScores(ctx, "book", scored[lo:min(lo+5_000, len(scored))]); err != nil {
			tb.Fatal(err)
		}
	}
	drafter := draft.NewOffline()
	week := simulate.BookWeek.Format(time.DateOnly)
	for _, a := range scored {
		if !a.Tier.AtRisk() {
			continue
		}
		atRisk++
		id := review.ID(a.AccountID, week)
		d, err := drafter.Draft(ctx, draft.Request{ReviewID: id, Assessment: a, Owner: a.Owner, Manager: "mia"})
		if err != nil {
			tb.Fatal(err)
		}
		now := time.Now()
		p := review.Packet{ReviewID: id, AccountID: a.AccountID, AccountName: a.AccountName, Owner: a.Owner, Cycle: week,
			State: review.AwaitingApproval, Event: fmt.Sprintf("%s at first scan (score %d)", a.Tier, a.Score), Severity: a.Tier,
			Assessment: a, Draft: &d, Escalation: review.Escalation{Path: []string{a.Owner, "mia"}}, CreatedAt: now, UpdatedAt: now}
		if err := st.SavePacket(ctx, p); err != nil {
			tb.Fatal(err)
		}
	}
	return atRisk
}

// starterEnv points the starter at the worker of cfg.
func starterEnv(cfg config.Config) []string {
	return cleanEnv(fmt.Sprintf("CHURNWATCH_TEMPORAL_PORT=%d", cfg.Temporal.Port), "CHURNWATCH_DATA_DIR="+cfg.DataDir)
}

// TestLargeReport: on a 10,000-account book the report is several times
// Temporal's payload limit. The summary workflow completes with a small
// reference to the report in the store, and `starter summary --format
// json`, `audit packets --json` and `register` print the whole of it.
func TestLargeReport(t *testing.T) {
	if testing.Short() {
		t.Skip("a 10,000-account book and the starter binary")
	}
	_, starterBin := binaries(t)
	cfg := testConfig(t, t.TempDir())
	const accounts = 10_000
	atRisk := fillBook(t, cfg, accounts)
	c := startWorker(t, cfg)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // the old path retried for ever
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "summary/large", TaskQueue: cfg.Temporal.TaskQueue}, workflows.SummaryWorkflow, workflows.SummaryInput{})
	if err != nil {
		t.Fatal(err)
	}
	var rep workflows.Report
	if err := run.Get(ctx, &rep); err != nil {
		t.Fatalf("summary of %d accounts: %v", accounts, err)
	}
	total := 0
	for _, n := range rep.Sizes {
		total += n
	}
	if rep.ID == "" || len(rep.JSON) != 0 || total <= temporalPayloadLimit {
		t.Fatalf("report %q of %d bytes (%v): want a reference to a report over the %d-byte limit", rep.ID, total, rep.Sizes, temporalPayloadLimit)
	}
	t.Logf("%d accounts, %d at risk: report of %.1f MB (%v)", accounts, atRisk, float64(total)/(1<<20), rep.Sizes)

	env := starterEnv(cfg)
	out := timedStarter(t, starterBin, env, "summary", "--format", "json")
	var s struct {
		Accounts int            `json:"accounts"`
		Tiers    map[string]int `json:"tiers"`
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil || s.Accounts != accounts {
		t.Fatalf("starter summary --format json: %v (%d accounts)\n%.300s", err, s.Accounts, out)
	}
	var packets []map[string]any
	if err := json.Unmarshal([]byte(timedStarter(t, starterBin, env, "audit", "packets", "--json")), &packets); err != nil || len(packets) != atRisk {
		t.Fatalf("starter audit packets --json: %v, %d packets for %d accounts at risk", err, len(packets), atRisk)
	}
	if lines := strings.Count(timedStarter(t, starterBin, env, "register"), "\n"); lines != accounts+1 {
		t.Errorf("starter register: %d lines for %d accounts", lines, accounts)
	}
}

// timedStarter runs the starter, fails on a non-zero exit and logs how
// long the command took, from process start to its last byte.
func timedStarter(tb testing.TB, bin string, env []string, args ...string) string {
	tb.Helper()
	start := time.Now()
	out, errOut, code := starterCmd(tb, bin, env, args...)
	if code != 0 {
		tb.Fatalf("starter %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	tb.Logf("starter %s: %s, %.1f MB", strings.Join(args, " "), time.Since(start).Round(time.Millisecond), float64(len(out))/(1<<20))
	return out
}

// BenchmarkReportLatency measures `starter summary --format json` and
// `starter audit packets --json` end to end (process start, the summary
// workflow building and storing the report, reading it back) on simulated
// books of 10,000 and 100,000 accounts:
//
//	go test -run '^$' -bench ReportLatency -benchtime 1x -timeout 60m ./worker
func BenchmarkReportLatency(b *testing.B) {
	_, starterBin := binaries(b)
	for _, accounts := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("accounts=%d", accounts), func(b *testing.B) {
			cfg := testConfig(b, b.TempDir())
			setup := time.Now()
			atRisk := fillBook(b, cfg, accounts)
			b.Logf("%d accounts, %d at risk, stored in %s", accounts, atRisk, time.Since(setup).Round(time.Second))
			startWorker(b, cfg)
			env := starterEnv(cfg)
			var summary, audit time.Duration
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				timedStarter(b, starterBin, env, "summary", "--format", "json")
				summary += time.Since(start)
				start = time.Now()
				timedStarter(b, starterBin, env, "audit", "packets", "--json")
				audit += time.Since(start)
			}
			b.ReportMetric(summary.Seconds()/float64(b.N), "summary-s")
			b.ReportMetric(audit.Seconds()/float64(b.N), "audit-s")
		})
	}
}
