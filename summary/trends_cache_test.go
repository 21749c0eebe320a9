package summary

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/store"
)

// TestTrendsFollowRescans checks the dashboard's kept weeks (trendRows)
// against the store's rows on both backends: a week rescanned with a second
// configuration must show that configuration's scores wherever it won (one
// row per account, the most recently saved), exactly as a fresh read and
// as Build's figures from ScoreRows. The scans are written through a second
// handle on the same database, as a worker writes while the web server
// reads; the ARRs have cents, so a sum taken in another order would differ.
func TestTrendsFollowRescans(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		testTrendsFollowRescans(t, func() store.Store { return openAt(t, "", dir) })
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := postgresSchema(t)
		testTrendsFollowRescans(t, func() store.Store { return openAt(t, dsn, "") })
	})
}

func testTrendsFollowRescans(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	writer, reader := open(), open()
	h1 := rescanBook(tw1, "h1", 30, 0)
	must(t, writer.SaveScores(ctx, "b1", h1))
	must(t, writer.SaveScores(ctx, "b2", rescanBook(tw2, "h1", 30, 1)))
	for i, a := range h1 {
		if !a.Tier.AtRisk() || i%3 == 0 {
			continue // some at-risk accounts have no review
		}
		p := review.Packet{ReviewID: review.ID(a.AccountID, tw1), AccountID: a.AccountID, AccountName: a.AccountName, Owner: a.Owner,
			Cycle: tw1, State: review.AwaitingApproval, Event: "crossed into " + string(a.Tier), Severity: a.Tier, Assessment: a,
			Draft:      &review.Draft{SavePlan: []review.PlanStep{{Day: 0, Action: "Call the sponsor", Owner: a.Owner}}},
			Escalation: review.Escalation{Path: []string{"owner", "manager"}}, CreatedAt: at(11, 3, 9), UpdatedAt: at(11, 3, 9)}
		if i%2 == 0 {
			p.State, p.FollowUpDate = review.ActionAssigned, "2026-11-20"
			p.Decision = &review.Decision{Kind: review.Approve, Actor: a.Owner, At: at(11, 4, 9)}
			p.Action = &review.Action{Owner: a.Owner, Plan: p.Draft.SavePlan}
		}
		must(t, writer.SavePacket(ctx, p))
	}
	team := TrendQuery{Owners: []string{"sam"}}
	trendRows.reset()
	before := buildTrends(t, reader, TrendQuery{})
	buildTrends(t, reader, team)
	stamps := func() [2]store.ScoreStamp {
		var out [2]store.ScoreStamp
		for i, w := range []string{tw1, tw2} {
			st, err := reader.ScoreStamp(ctx, w)
			must(t, err)
			out[i] = st
		}
		return out
	}
	s1 := stamps()

	// The same configuration again writes nothing: nothing moves.
	must(t, writer.SaveScores(ctx, "b1-again", h1))
	if s := stamps(); s != s1 {
		t.Fatalf("a rescan with the same configuration moved the stamps: %+v, then %+v", s1, s)
	}
	if again := buildTrends(t, reader, TrendQuery{}); !reflect.DeepEqual(again, before) {
		t.Fatalf("unchanged record, other figures:\n got %s\nwant %s", dump(again), dump(before))
	}

	// A second configuration rescans part of tw1 (and finds one new account).
	h2 := rescanBook(tw1, "h2", 31, 2)[12:]
	must(t, writer.SaveScores(ctx, "b1-h2", h2))
	if s := stamps(); s[0] == s1[0] || s[1] != s1[1] {
		t.Fatalf("stamps %+v after a new configuration for %s, were %+v: want only %s's moved", s, tw1, s1, tw1)
	}
	for _, q := range []TrendQuery{{}, team} {
		got := buildTrends(t, reader, q) // tw2 kept, tw1 read again
		trendRows.reset()
		fresh := buildTrends(t, reader, q)
		if !reflect.DeepEqual(got, fresh) {
			t.Errorf("owners %v: kept weeks disagree with the store's rows:\n got %s\nwant %s", q.Owners, dump(got), dump(fresh))
		}
	}
	got := buildTrends(t, reader, TrendQuery{})
	wantTiers, wantARR, n := tallyLatest(append(slices.Clone(h1), h2...))
	if w := got.Weeks[0]; w.Accounts != n || w.Tiers != wantTiers || w.ARRByTier != wantARR {
		t.Errorf("%s after the rescan: %d accounts, %+v, %+v; want %d, %+v, %+v (each account's latest configuration)",
			tw1, w.Accounts, w.Tiers, w.ARRByTier, n, wantTiers, wantARR)
	}
	if got.Weeks[0].Tiers == before.Weeks[0].Tiers {
		t.Fatalf("the rescan changed no tier count of %s: the test shows nothing", tw1)
	}
	for _, w := range got.Weeks {
		s, err := Build(ctx, reader, w.Week)
		must(t, err)
		if w.Accounts != s.Accounts || w.Tiers != s.Tiers || w.ARRByTier != s.ARRByTier || w.ARRAtRisk != s.ARRAtRisk ||
			w.PacketsAtRisk != s.PacketCompleteness.AtRisk || w.PacketsComplete != s.PacketCompleteness.Complete {
			t.Errorf("%s: trends %d accounts %+v %+v at risk %v, packets %d/%d; Build %d %+v %+v %v, %d/%d", w.Week,
				w.Accounts, w.Tiers, w.ARRByTier, w.ARRAtRisk, w.PacketsComplete, w.PacketsAtRisk,
				s.Accounts, s.Tiers, s.ARRByTier, s.ARRAtRisk, s.PacketCompleteness.Complete, s.PacketCompleteness.AtRisk)
		}
	}
}

// rescanBook scores n accounts for week under config hash, tiers and owners
// shifted by shift, with ARRs in cents.
func rescanBook(week, hash string, n, shift int) []risk.Assessment {
	out := make([]risk.Assessment, n)
	for i := range out {
		id := fmt.Sprintf("R%03d", i)
		tier := risk.Tiers[(i*7+shift)%len(risk.Tiers)]
		out[i] = risk.Assessment{AccountID: id, AccountName: "Acct " + id, Owner: []string{"dana", "sam", "lee"}[(i+shift)%3],
			AsOf: week, Tier: tier, Score: 10 + i, ARR: float64(1000+137*i*(shift+1)) + 0.01*float64(i%7+1),
			ModelVersion: "v1", ConfigHash: hash, ScoredAt: at(11, 2, 9)}
	}
	return out
}

// tallyLatest counts as the dashboard must: each account once, by its
// latest saved assessment, ARR summed in account order.
func tallyLatest(saved []risk.Assessment) (TierCounts, TierARR, int) {
	latest := map[string]risk.Assessment{}
	for _, a := range saved {
		latest[a.AccountID] = a
	}
	rows := make([]store.ScoreRow, 0, len(latest))
	for _, a := range latest {
		rows = append(rows, store.ScoreRow{AccountID: a.AccountID, Owner: a.Owner, Tier: a.Tier, Score: a.Score, ARR: a.ARR})
	}
	slices.SortFunc(rows, func(a, b store.ScoreRow) int { return cmp.Compare(a.AccountID, b.AccountID) })
	c, arr := tally(rows)
	return c, arr, len(rows)
}

func buildTrends(t *testing.T, st store.Store, q TrendQuery) Trends {
	t.Helper()
	tr, err := BuildTrends(context.Background(), st, q)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func openAt(t *testing.T, dsn, dir string) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dsn, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// postgresSchema is the test database's DSN with a fresh schema, dropped
// after the test; it skips the test when no database is given.
func postgresSchema(t *testing.T) string {
	base := os.Getenv("CHURNWATCH_TEST_POSTGRES_DSN")
	if base == "" {
		t.Skip("PostgreSQL tests skipped: set CHURNWATCH_TEST_POSTGRES_DSN=postgres://... (source .churnwatch/test-env)")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	schema := fmt.Sprintf("summary_%d_%d", time.Now().UnixNano(), os.Getpid())
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}
