package summary

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/store"
)

var (
	benchAccounts = flag.Int("summary.accounts", 100000, "accounts in the Build benchmark")
	benchWeeks    = flag.Int("summary.weeks", 52, "weeks of scores in the Build benchmark")
)

// BenchmarkBuild measures the leadership summary over a year of weekly
// scores for a large book (100,000 accounts x 52 weeks by default, about 10%
// of them at risk each week with a packet and events each). Generating the
// data takes minutes; set CHURNWATCH_BENCH_CACHE=DIR to keep the SQLite copy
// between runs. PostgreSQL runs too when CHURNWATCH_TEST_POSTGRES_DSN is set.
//
//	go test -run '^$' -bench Build -benchtime 5x ./summary/
//	go test -run '^$' -bench Build -summary.accounts 10000 ./summary/   # smaller
func BenchmarkBuild(b *testing.B) {
	ctx := context.Background()
	// The data is generated once per backend; the benchmark function itself
	// runs several times as the framework picks b.N.
	b.Run("sqlite", func(b *testing.B) {
		st := benchStore(b, "sqlite", func() (store.Store, string, func(), error) {
			dir, err := os.MkdirTemp("", "churnwatch-bench-")
			cleanup := func() { os.RemoveAll(dir) }
			if cache := os.Getenv("CHURNWATCH_BENCH_CACHE"); cache != "" {
				dir, cleanup = filepath.Join(cache, fmt.Sprintf("build-%dx%d", *benchAccounts, *benchWeeks)), func() {}
			}
			if err != nil {
				return nil, "", nil, err
			}
			st, err := store.Open(ctx, "", dir)
			return st, filepath.Join(dir, "complete"), cleanup, err
		})
		benchBuild(b, st)
	})
	b.Run("postgres", func(b *testing.B) {
		dsn := os.Getenv("CHURNWATCH_TEST_POSTGRES_DSN")
		if dsn == "" {
			b.Skip("set CHURNWATCH_TEST_POSTGRES_DSN to include PostgreSQL")
		}
		st := benchStore(b, "postgres", func() (store.Store, string, func(), error) {
			schema := fmt.Sprintf("bench_%d", time.Now().UnixNano())
			admin, err := sql.Open("pgx", dsn)
			if err != nil {
				return nil, "", nil, err
			}
			if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
				return nil, "", nil, err
			}
			cleanup := func() { admin.Exec("DROP SCHEMA " + schema + " CASCADE"); admin.Close() }
			sep := "?"
			if strings.Contains(dsn, "?") {
				sep = "&"
			}
			st, err := store.Open(ctx, dsn+sep+"search_path="+schema, "")
			return st, "", cleanup, err
		})
		benchBuild(b, st)
	})
	for _, cleanup := range benchCleanups {
		cleanup()
	}
	benchCleanups, benchStores = nil, map[string]store.Store{}
}

var (
	benchStores   = map[string]store.Store{}
	benchCleanups []func()
)

// benchStore opens a backend's store and fills it, once per benchmark run.
func benchStore(b *testing.B, name string, open func() (store.Store, string, func(), error)) store.Store {
	if st, ok := benchStores[name]; ok {
		return st
	}
	st, marker, cleanup, err := open()
	if err != nil {
		b.Fatal(err)
	}
	benchCleanups = append(benchCleanups, func() { st.Close(); cleanup() })
	if _, err := os.Stat(marker); marker == "" || err != nil {
		start := time.Now()
		if err := generate(context.Background(), st, *benchAccounts, benchWeekList(*benchWeeks)); err != nil {
			b.Fatal(err)
		}
		b.Logf("generated %d accounts x %d weeks in %s", *benchAccounts, *benchWeeks, time.Since(start).Round(time.Second))
		if marker != "" {
			os.WriteFile(marker, nil, 0o644)
		}
	}
	benchStores[name] = st
	return st
}

func benchBuild(b *testing.B, st store.Store) {
	ctx := context.Background()
	b.ResetTimer()
	var s Summary
	for i := 0; i < b.N; i++ {
		var err error
		if s, err = Build(ctx, st, ""); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if s.Accounts != *benchAccounts || s.PacketCompleteness.AtRisk == 0 {
		b.Fatalf("summary covers %d accounts, %d at risk; want %d accounts", s.Accounts, s.PacketCompleteness.AtRisk, *benchAccounts)
	}
	b.ReportMetric(float64(s.PacketCompleteness.AtRisk), "at-risk")
	b.ReportMetric(float64(s.Reviews), "reviews")
}

func benchWeekList(n int) []string {
	first := time.Date(2025, 11, 24, 0, 0, 0, 0, time.UTC) // a Monday
	weeks := make([]string, n)
	for i := range weeks {
		weeks[i] = first.AddDate(0, 0, 7*i).Format(time.DateOnly)
	}
	return weeks
}

// benchTier spreads tiers like a real book: most accounts healthy, about one
// in ten at risk, and the at-risk set drifting from week to week.
func benchTier(account, week int) risk.Tier {
	h := uint32(account)*2654435761 + uint32(week/4)*40503
	switch h % 100 {
	case 0, 1, 2:
		return risk.Critical
	case 3, 4, 5, 6, 7, 8, 9:
		return risk.Elevated
	case 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24:
		return risk.Watch
	case 25, 26, 27, 28, 29:
		return risk.InsufficientEvidence
	}
	return risk.Healthy
}

func generate(ctx context.Context, st store.Store, accounts int, weeks []string) error {
	const chunk = 5000
	for wi, week := range weeks {
		for start := 0; start < accounts; start += chunk {
			as := make([]risk.Assessment, 0, chunk)
			for i := start; i < min(start+chunk, accounts); i++ {
				id := fmt.Sprintf("A-%06d", i)
				a := risk.Assessment{AccountID: id, AccountName: "Account " + id, Owner: fmt.Sprintf("csm%02d", i%40),
					AsOf: week, Tier: benchTier(i, wi), Score: 20, ARR: float64(10000 + (i%97)*1000),
					RenewalDate: "2027-03-01", ModelVersion: "v1", ConfigHash: "h1", ScoredAt: time.Now()}
				if a.Tier.AtRisk() {
					a.Score = 70
					a.Signals = []risk.Signal{
						{ID: "login_drop", Dimension: "usage", Points: 12, Text: "Logins fell 38% over 3 weeks (120/wk to 74/wk)",
							Evidence: risk.Evidence{Field: "logins", Weeks: []string{weeks[max(0, wi-3)], week}, Values: []float64{120, 74}}},
						{ID: "tickets_open", Dimension: "support", Points: 10, Text: "3 critical tickets open, oldest 21 days",
							Evidence: risk.Evidence{Field: "critical_open_tickets", Weeks: []string{week}, Values: []float64{3}}},
					}
				}
				as = append(as, a)
			}
			if err := st.SaveScores(ctx, "bench-"+week, as); err != nil {
				return err
			}
		}
	}

	// One review per account that is at risk in the last four weeks, opened
	// in the week it first shows, in various states of completion.
	last := len(weeks) - 1
	flagged := map[int]bool{}
	for wi := max(0, last-3); wi <= last; wi++ {
		for i := 0; i < accounts; i++ {
			if flagged[i] || !benchTier(i, wi).AtRisk() {
				continue
			}
			flagged[i] = true
			id := fmt.Sprintf("A-%06d", i)
			rid := review.ID(id, weeks[wi])
			at := time.Now().Add(-time.Duration(last-wi) * 7 * 24 * time.Hour)
			p := review.Packet{ReviewID: rid, AccountID: id, AccountName: "Account " + id, Owner: fmt.Sprintf("csm%02d", i%40),
				Cycle: weeks[wi], State: review.AwaitingApproval, Event: "crossed into " + string(benchTier(i, wi)),
				Severity: benchTier(i, wi), Escalation: review.Escalation{Path: []string{"owner", "manager"}},
				Draft:     &review.Draft{SavePlan: []review.PlanStep{{Day: 0, Action: "Call the sponsor"}}},
				CreatedAt: at, UpdatedAt: at}
			events := []review.Event{{Key: review.EventKey(rid, review.EventFlagged, 0), ReviewID: rid, AccountID: id, Kind: review.EventFlagged, At: at}}
			if i%3 != 0 {
				dec := at.Add(time.Duration(i%20) * 24 * time.Hour)
				p.State, p.FollowUpDate = review.ActionAssigned, weeks[wi]
				p.Decision = &review.Decision{Kind: review.Approve, Actor: p.Owner, At: dec}
				events = append(events,
					review.Event{Key: review.EventKey(rid, review.EventReviewed, 0), ReviewID: rid, AccountID: id, Kind: review.EventReviewed, At: dec, Detail: "approve"},
					review.Event{Key: review.EventKey(rid, review.EventActionAssigned, 0), ReviewID: rid, AccountID: id, Kind: review.EventActionAssigned, At: dec})
				if i%5 == 0 {
					events = append(events, review.Event{Key: review.EventKey(rid, review.EventSaved, 0), ReviewID: rid, AccountID: id, Kind: review.EventSaved, At: dec.Add(14 * 24 * time.Hour)})
				}
			}
			if err := st.SavePacket(ctx, p); err != nil {
				return err
			}
			for _, e := range events {
				if _, err := st.AppendEvent(ctx, e); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
