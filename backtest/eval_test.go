package backtest

import (
	"flag"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/simulate"
	"github.com/churnwatch/churnwatch/snapshot"
)

var (
	evalFlag     = flag.Bool("eval", false, "run the full evaluation on simulated portfolios (slow)")
	evalAccounts = flag.Int("eval.accounts", 400, "accounts per simulated portfolio")
	evalWeeks    = flag.Int("eval.weeks", 52, "weeks per simulated portfolio")
	evalSeeds    = flag.Int("eval.seeds", 3, "number of seeds (portfolios)")
	evalSeed0    = flag.Int("eval.seed0", 1, "first seed; held-out seeds run alone with e.g. -eval.seed0=7 -eval.seeds=3")
	evalStart    = flag.String("eval.start", "2025-06-02", "first week of the simulated portfolios (the default year crosses summer and Christmas)")
	evalOnset    = flag.String("eval.onset", "4-16", "weeks before churn a churner's decline begins, as min-max (the simulator's default is 4-16)")
	evalExtended = flag.Bool("eval.extended", false, "simulate the optional columns of model 1.4 too (tickets_opened, last_login_date, nps_survey_sent, meetings_missed)")
)

// Targets the default model must meet on simulated portfolios.
const (
	targetMedianLead = 52.0
	targetRecall30   = 0.8
	targetFPR        = 0.08
	targetPrecision  = 0.8
)

// evalPortfolio is one simulated evaluation portfolio: by default a year of
// weekly history starting in June, so it crosses the summer weeks and the
// Christmas holidays.
func evalPortfolio(seed int64, accounts, weeks int) ([]snapshot.Snapshot, []simulate.Churn, []simulate.Account, simulate.Options) {
	start, ok := snapshot.ParseDate(*evalStart)
	if !ok {
		panic("-eval.start: not a date: " + *evalStart)
	}
	var onset [2]int
	if _, err := fmt.Sscanf(*evalOnset, "%d-%d", &onset[0], &onset[1]); err != nil || onset[0] < 1 || onset[1] < onset[0] {
		panic("-eval.onset: want min-max weeks such as 4-16, got " + *evalOnset)
	}
	opts := simulate.Options{Accounts: accounts, Weeks: weeks, Seed: seed, Start: start, ChurnRate: 0.15, OnsetWeeks: onset, Extended: *evalExtended}
	rows, churn := simulate.Portfolio(opts)
	return rows, churn, simulate.Accounts(opts), opts
}

// TestEvaluation replays the default model over several simulated
// portfolios and reports it beside the naive baseline:
//
//	go test -run TestEvaluation -v -eval ./backtest/
//
// It fails when the pooled figures miss the targets above, and logs which
// churn patterns were missed and which traps raised false alarms.
func TestEvaluation(t *testing.T) {
	if !*evalFlag {
		t.Skip("full evaluation runs with -eval")
	}
	m := risk.DefaultModel()
	var pooledRows []snapshot.Snapshot
	pooledChurn := map[string]time.Time{}
	plans := map[string]simulate.Account{}
	churnInfo := map[string]simulate.Churn{}
	t.Logf("%-8s %-9s %8s %8s %8s %10s %8s %8s %8s %8s %7s", "seed", "rule", "accounts", "churners", "flagged", "lead_days", "rec30", "rec60", "prec", "fpr", "alerts/wk")
	for s := *evalSeed0; s < *evalSeed0+*evalSeeds; s++ {
		rows, churn, accts, _ := evalPortfolio(int64(s), *evalAccounts, *evalWeeks)
		res := Run(m, rows, simulate.ChurnMap(churn), Options{})
		logRow(t, fmt.Sprint(s), "model", res.Metrics)
		logRow(t, fmt.Sprint(s), "baseline", res.Baseline)
		prefix := fmt.Sprintf("s%d/", s)
		for _, r := range rows {
			r.AccountID = prefix + r.AccountID
			pooledRows = append(pooledRows, r)
		}
		for _, c := range churn {
			pooledChurn[prefix+c.AccountID] = c.Date
			churnInfo[prefix+c.AccountID] = c
		}
		for _, a := range accts {
			plans[prefix+a.ID] = a
		}
	}
	res := Run(m, pooledRows, pooledChurn, Options{})
	logRow(t, "pooled", "model", res.Metrics)
	logRow(t, "pooled", "baseline", res.Baseline)
	t.Logf("first signals of caught churners: %s", top(res.FirstSignalsChurners))
	t.Logf("first signals of false alarms:    %s", top(res.FirstSignalsFalseAlarms))
	t.Logf("baseline first rules (churners / false alarms): %s / %s", top(res.Baseline.FirstSignalsChurners), top(res.Baseline.FirstSignalsFalseAlarms))

	// How long after onset the model caught churners, against how long the
	// onset was: the lead a model could have had at best.
	var delays, onsets []float64
	lateByPattern := map[string]int{}
	for _, o := range res.Outcomes {
		if !o.Churner {
			continue
		}
		c := churnInfo[o.AccountID]
		onsets = append(onsets, c.Date.Sub(c.Onset).Hours()/24)
		if o.FirstFlag.IsZero() {
			continue
		}
		delays = append(delays, o.FirstFlag.Sub(c.Onset).Hours()/24)
		if o.LeadDays < 30 {
			for _, p := range c.Patterns {
				lateByPattern[string(p)]++
			}
			if c.Quiet {
				lateByPattern["(quiet)"]++
			}
		}
	}
	t.Logf("churners' onset before churn: median %.0f days; caught churners flagged a median %.0f days after onset", median(onsets), median(delays))
	t.Logf("ceiling set by the onsets: recall at 30 days if every churner that warns were flagged 0 / 1 / 2 / 4 weeks after its onset: %s",
		onsetCeiling(churnInfo, 0, 1, 2, 4))
	t.Logf("patterns of churners flagged < 30 days ahead: %s", top(lateByPattern))
	missed := map[string]int{}
	for _, id := range res.MissedChurners {
		c := churnInfo[id]
		if c.Quiet {
			missed["(quiet)"]++
		}
		for _, p := range c.Patterns {
			missed[string(p)]++
		}
	}
	t.Logf("patterns of missed churners (%d): %s", len(res.MissedChurners), top(missed))
	traps := map[string]int{}
	for _, id := range res.FalseAlarmAccounts {
		a := plans[id]
		if len(a.Traps) == 0 {
			traps["(no trap)"]++
		}
		for _, tr := range a.Traps {
			traps[string(tr.Trap)]++
		}
		if a.SlowPayer {
			traps["slow_payer(habit)"]++
		}
	}
	t.Logf("weeks false alarms first fired: %s", top(res.FalseAlarmWeeks))
	t.Logf("traps of false alarms (%d): %s", len(res.FalseAlarmAccounts), top(traps))

	if res.MedianLeadDays < targetMedianLead {
		t.Errorf("median lead %.1f days, target >= %.0f", res.MedianLeadDays, targetMedianLead)
	}
	if res.Recall30d < targetRecall30 {
		t.Errorf("recall at 30 days %.3f, target >= %.2f", res.Recall30d, targetRecall30)
	}
	if res.FalsePositiveRate > targetFPR {
		t.Errorf("false-positive rate %.3f, target <= %.2f", res.FalsePositiveRate, targetFPR)
	}
	if res.Precision < targetPrecision {
		t.Errorf("precision %.3f, target >= %.2f", res.Precision, targetPrecision)
	}
}

// onsetCeiling is the recall at 30 days a detector would reach if it
// flagged every churner that warns (not quiet) exactly k weeks after its
// onset, for each k: what the portfolio allows at best, whatever the model.
func onsetCeiling(churners map[string]simulate.Churn, ks ...int) string {
	var out []string
	for _, k := range ks {
		out = append(out, fmt.Sprintf("%.3f", onsetCeilingAt(churners, k)))
	}
	return strings.Join(out, " / ")
}

// onsetCeilingAt is one ceiling of onsetCeiling: every churner that warns
// flagged k weeks after its onset.
func onsetCeilingAt(churners map[string]simulate.Churn, k int) float64 {
	reach := 0
	for _, c := range churners {
		if !c.Quiet && c.Date.Sub(c.Onset.AddDate(0, 0, 7*k)) >= 30*24*time.Hour {
			reach++
		}
	}
	return float64(reach) / float64(max(1, len(churners)))
}

func logRow(t *testing.T, seed, rule string, m Metrics) {
	t.Helper()
	t.Logf("%-8s %-9s %8d %8d %8d %10.1f %8.3f %8.3f %8.3f %8.3f %7.2f", seed, rule, m.Accounts, m.Churners,
		m.FlaggedChurners, m.MedianLeadDays, m.Recall30d, m.Recall60d, m.Precision, m.FalsePositiveRate, m.AlertsPerWeek)
}

func top(m map[string]int) string {
	type kv struct {
		k string
		v int
	}
	var s []kv
	for k, v := range m {
		s = append(s, kv{k, v})
	}
	sort.Slice(s, func(i, j int) bool { return s[i].v > s[j].v || s[i].v == s[j].v && s[i].k < s[j].k })
	var b strings.Builder
	for i, e := range s {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%d", e.k, e.v)
	}
	return b.String()
}

// BenchmarkRun measures a full replay of one simulated portfolio, by
// default 400 accounts x 52 weeks; a team's own scale with e.g.
// -eval.accounts=20000 -eval.weeks=104. It reports what the replay
// allocates in all (the table it replays from included, the simulated rows
// not); `starter backtest` under /usr/bin/time shows the peak.
func BenchmarkRun(b *testing.B) {
	rows, churn, _, _ := evalPortfolio(1, *evalAccounts, *evalWeeks)
	m := risk.DefaultModel()
	cm := simulate.ChurnMap(churn)
	var before, after runtime.MemStats
	b.ResetTimer()
	for b.Loop() {
		runtime.GC()
		runtime.ReadMemStats(&before)
		t := snapshot.TableOf(rows)
		res := RunTable(m, t, cm, Options{})
		runtime.ReadMemStats(&after)
		if res.Accounts == 0 {
			b.Fatal("nothing replayed")
		}
	}
	b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "account-weeks/s")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/(1<<20), "alloc-MB/op")
}

// TestSignalLift reports, per signal, how often it fires in a scored week of
// an account that stays (its base rate, the false-alarm fuel) against how
// often it fires in a churner's last 8 weeks before churning (its hit rate):
//
//	go test -run TestSignalLift -v -eval ./backtest/
func TestSignalLift(t *testing.T) {
	if !*evalFlag {
		t.Skip("runs with -eval")
	}
	m := risk.DefaultModel()
	rows, churn, _, _ := evalPortfolio(1, *evalAccounts, *evalWeeks)
	cm := simulate.ChurnMap(churn)
	stay, late := map[string]int{}, map[string]int{}
	var stayWeeks, lateWeeks int
	for _, h := range risk.GroupByAccount(rows) {
		cd, isChurner := cm[h[0].AccountID]
		for i := 3; i < len(h); i++ {
			w := h[i].Week
			if isChurner && (w.Before(cd.AddDate(0, 0, -56)) || !w.Before(cd)) {
				continue
			}
			a := m.ScoreSorted(h[:i+1], w)
			target, n := stay, &stayWeeks
			if isChurner {
				target, n = late, &lateWeeks
			}
			*n++
			for _, s := range a.Signals {
				target[s.ID]++
			}
		}
	}
	ids := map[string]bool{}
	for id := range stay {
		ids[id] = true
	}
	for id := range late {
		ids[id] = true
	}
	var sorted []string
	for id := range ids {
		sorted = append(sorted, id)
	}
	sort.Strings(sorted)
	t.Logf("%-26s %12s %14s %6s", "signal", "stayers/wk", "churners/wk*", "lift")
	for _, id := range sorted {
		b := float64(stay[id]) / float64(max(1, stayWeeks))
		h := float64(late[id]) / float64(max(1, lateWeeks))
		t.Logf("%-26s %12.3f %14.3f %6.1f", id, b, h, h/max(b, 1e-3))
	}
	t.Logf("* churners' last 8 weeks before churn; %d stayer-weeks, %d churner-weeks", stayWeeks, lateWeeks)
}
