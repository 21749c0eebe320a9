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

// BenchmarkBuild measures the leadership views over a year of weekly scores
// for a large book (100,000 accounts x 52 weeks by default, about 10% of
// them at risk each week, with a packet and events each): Build, Audit, and
// the store's LatestScores that every scan runs. Generating the data takes
// minutes; set CHURNWATCH_BENCH_CACHE=DIR to keep the SQLite copy between
// runs. PostgreSQL runs too when CHURNWATCH_TEST_POSTGRES_DSN is set.
//
//	go test ./summary/ -run '^$' -bench Build -benchtime 5x
//	go test ./summary/ -run '^$' -bench Build -args -summary.accounts=10000   # smaller
func BenchmarkBuild(b *testing.B) {
	ctx := context.Background()
	// A parent benchmark's body runs once, so each backend's data is
	// generated once for all of its sub-benchmarks.
	b.Run("sqlite", func(b *testing.B) {
		dir := b.TempDir()
		if cache := os.Getenv("CHURNWATCH_BENCH_CACHE"); cache != "" {
			dir = filepath.Join(cache, fmt.Sprintf("build-%dx%d", *benchAccounts, *benchWeeks))
		}
		st, err := store.Open(ctx, "", dir)
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		benchViews(b, st, filepath.Join(dir, "complete"))
	})
	b.Run("postgres", func(b *testing.B) {
		dsn := os.Getenv("CHURNWATCH_TEST_POSTGRES_DSN")
		if dsn == "" {
			b.Skip("set CHURNWATCH_TEST_POSTGRES_DSN to include PostgreSQL")
		}
		schema := fmt.Sprintf("bench_%d", time.Now().UnixNano())
		admin, err := sql.Open("pgx", dsn)
		if err != nil {
			b.Fatal(err)
		}
		defer admin.Close()
		if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
			b.Fatal(err)
		}
		defer admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		st, err := store.Open(ctx, dsn+sep+"search_path="+schema, "")
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		benchViews(b, st, "")
	})
}

// benchViews fills st (unless marker says a cached copy is complete) and
// runs the sub-benchmarks on it.
func benchViews(b *testing.B, st store.Store, marker string) {
	ctx := context.Background()
	weeks := benchWeekList(*benchWeeks)
	if _, err := os.Stat(marker); marker == "" || err != nil {
		start := time.Now()
		if err := generate(ctx, st, *benchAccounts, weeks); err != nil {
			b.Fatal(err)
		}
		b.Logf("generated %d accounts x %d weeks in %s", *benchAccounts, len(weeks), time.Since(start).Round(time.Second))
		if marker != "" {
			os.WriteFile(marker, nil, 0o644)
		}
	}
	b.Run("Build", func(b *testing.B) {
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
	})
	b.Run("Audit", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := Audit(ctx, st, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
	last := weeks[len(weeks)-1]
	b.Run("LatestScores/all", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if m, err := st.LatestScores(ctx, last); err != nil || len(m) != *benchAccounts {
				b.Fatalf("LatestScores: %d accounts, %v", len(m), err)
			}
		}
	})
	chunk := make([]string, min(1000, *benchAccounts))
	for i := range chunk {
		chunk[i] = fmt.Sprintf("A-%06d", i*(*benchAccounts/len(chunk)))
	}
	b.Run("LatestScores/1000", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if m, err := st.LatestScores(ctx, last, chunk...); err != nil || len(m) != len(chunk) {
				b.Fatalf("LatestScores: %d accounts, %v", len(m), err)
			}
		}
	})
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
	if err := generateScores(ctx, st, accounts, weeks); err != nil {
		return err
	}
	return generateReviews(ctx, st, accounts, weeks)
}

// generateScores stores a score per account per week, tiers from benchTier.
func generateScores(ctx context.Context, st store.Store, accounts int, weeks []string) error {
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
	return nil
}

// generateReviews opens one review per account that is at risk in the last
// four weeks, in the week it first shows, in various states of completion.
func generateReviews(ctx context.Context, st store.Store, accounts int, weeks []string) error {
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
			events := []review.Event{{Key: review.EventKey(rid, "", review.EventFlagged, 0), ReviewID: rid, AccountID: id, Kind: review.EventFlagged, At: at}}
			if i%3 != 0 {
				dec := at.Add(time.Duration(i%20) * 24 * time.Hour)
				p.State, p.FollowUpDate = review.ActionAssigned, weeks[wi]
				p.Decision = &review.Decision{Kind: review.Approve, Actor: p.Owner, At: dec}
				events = append(events,
					review.Event{Key: review.EventKey(rid, "", review.EventReviewed, 0), ReviewID: rid, AccountID: id, Kind: review.EventReviewed, At: dec, Detail: "approve"},
					review.Event{Key: review.EventKey(rid, "", review.EventActionAssigned, 0), ReviewID: rid, AccountID: id, Kind: review.EventActionAssigned, At: dec})
				if i%5 == 0 {
					events = append(events, review.Event{Key: review.EventKey(rid, "", review.EventSaved, 0), ReviewID: rid, AccountID: id, Kind: review.EventSaved, At: dec.Add(14 * 24 * time.Hour)})
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
