package summary

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/store"
)

// trendBenchWeeks and trendBenchPackets size the BuildTrends benchmark's
// record: a dashboard's default window, and ~250 reviews opened a week.
const (
	trendBenchWeeks   = 12
	trendBenchPackets = 3000
)

// BenchmarkBuildTrends100k measures the leaders' dashboard over 12 weeks of
// a 100,000-account book (-summary.accounts to change) with ~3,000 reviews
// in every state, decided after 0 to 25 days, with outcomes. Filling the
// store is not timed; CHURNWATCH_BENCH_CACHE=DIR keeps it between runs.
// "all" and "team" are the steady state, every week's rows in trendRows
// (one untimed call fills it); "cold" is the first request after a start,
// every week read from the store.
//
//	go test ./summary/ -run '^$' -bench BuildTrends -benchtime 3x
func BenchmarkBuildTrends100k(b *testing.B) {
	ctx := context.Background()
	accounts, weeks := *benchAccounts, benchWeekList(trendBenchWeeks)
	dir := b.TempDir()
	if cache := os.Getenv("CHURNWATCH_BENCH_CACHE"); cache != "" {
		dir = filepath.Join(cache, fmt.Sprintf("trends-%dx%d", accounts, len(weeks)))
	}
	st, err := store.Open(ctx, "", dir)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	marker := filepath.Join(dir, "complete")
	if _, err := os.Stat(marker); err != nil {
		start := time.Now()
		if err := generateScores(ctx, st, accounts, weeks); err != nil {
			b.Fatal(err)
		}
		n, err := generateTrendReviews(ctx, st, accounts, weeks)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("generated %d accounts x %d weeks and %d reviews in %s", accounts, len(weeks), n, time.Since(start).Round(time.Second))
		os.WriteFile(marker, nil, 0o644)
	}
	for _, c := range []struct {
		name string
		q    TrendQuery
		cold bool
	}{
		{"all", TrendQuery{}, false},
		// A manager's team of 4 of the 40 CSMs: every row is still looked at.
		{"team", TrendQuery{Owners: []string{"csm00", "csm01", "csm02", "csm03"}}, false},
		{"cold", TrendQuery{}, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			var tr Trends
			if _, err = BuildTrends(ctx, st, c.q); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if c.cold {
					trendRows.reset()
				}
				if tr, err = BuildTrends(ctx, st, c.q); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			opened := 0
			for _, w := range tr.Weeks {
				opened += w.ReviewsOpened
			}
			if len(tr.Weeks) != len(weeks) || opened == 0 || (c.q.Owners == nil && tr.Weeks[len(weeks)-1].Accounts != accounts) {
				b.Fatalf("trends: %d weeks, %d reviews opened", len(tr.Weeks), opened)
			}
			b.ReportMetric(float64(opened), "reviews")
		})
	}
}

// generateTrendReviews opens about trendBenchPackets reviews spread over the
// weeks, each on an account at risk that week: a tenth left undecided, a
// tenth rejected, the rest approved after 0 to 25 days, with a saved,
// churned or still-at-risk outcome two weeks later for three in four.
func generateTrendReviews(ctx context.Context, st store.Store, accounts int, weeks []string) (int, error) {
	perWeek := trendBenchPackets / len(weeks)
	stride := max(1, accounts/(perWeek*12)) // about a tenth of the accounts are at risk
	n := 0
	for wi, week := range weeks {
		monday, _ := time.Parse(time.DateOnly, week)
		opened := 0
		for i := wi; i < accounts && opened < perWeek; i += stride {
			if !benchTier(i, wi).AtRisk() {
				continue
			}
			opened++
			n++
			p, events := trendBenchReview(i, n, week, monday, benchTier(i, wi))
			if err := st.SavePacket(ctx, p); err != nil {
				return n, err
			}
			for _, e := range events {
				if _, err := st.AppendEvent(ctx, e); err != nil {
					return n, err
				}
			}
		}
	}
	return n, nil
}

// trendBenchReview is account i's review number n, opened in week.
func trendBenchReview(i, n int, week string, monday time.Time, tier risk.Tier) (review.Packet, []review.Event) {
	id := fmt.Sprintf("A-%06d", i)
	rid := review.ID(id, week)
	owner := fmt.Sprintf("csm%02d", i%40)
	created := monday.Add(time.Duration(9+n%48) * time.Hour)
	plan := []review.PlanStep{{Day: 0, Action: "Call the sponsor", Owner: owner}}
	p := review.Packet{ReviewID: rid, AccountID: id, AccountName: "Account " + id, Owner: owner, Cycle: week,
		State: review.AwaitingApproval, Event: "crossed into " + string(tier), Severity: tier,
		Assessment: risk.Assessment{AccountID: id, AccountName: "Account " + id, Owner: owner, AsOf: week, Tier: tier, Score: 70,
			ARR: float64(10000 + (i%97)*1000), Signals: []risk.Signal{{ID: "login_drop", Dimension: "usage", Points: 12,
				Text: "Logins fell 38% over 3 weeks (120/wk to 74/wk)", Evidence: risk.Evidence{Field: "logins", Weeks: []string{week}, Values: []float64{74}}}}},
		Draft: &review.Draft{SavePlan: plan}, Escalation: review.Escalation{Path: []string{"owner", "manager"}},
		CreatedAt: created, UpdatedAt: created}
	ev := func(kind review.EventKind, at time.Time, detail string) review.Event {
		return review.Event{Key: review.EventKey(rid, "", kind, 0), ReviewID: rid, AccountID: id, Kind: kind, Actor: owner, At: at, Detail: detail}
	}
	events := []review.Event{ev(review.EventFlagged, created, p.Event)}
	decided := created.Add(time.Duration((n*7)%26)*24*time.Hour + time.Duration(n%10)*time.Hour)
	switch {
	case n%10 == 0: // awaiting a decision
		return p, events
	case n%10 == 1:
		p.State = review.Rejected
		p.Decision = &review.Decision{Kind: review.Reject, Actor: owner, Reason: "seasonal dip", At: decided}
		return p, append(events, ev(review.EventReviewed, decided, "reject"), ev(review.EventRiskRejected, decided, "seasonal dip"))
	}
	p.State, p.FollowUpDate = review.ActionAssigned, decided.AddDate(0, 0, 14).Format(time.DateOnly)
	p.Decision = &review.Decision{Kind: review.Approve, Actor: owner, At: decided}
	p.Action = &review.Action{Owner: owner, Plan: plan}
	events = append(events, ev(review.EventReviewed, decided, "approve"), ev(review.EventActionAssigned, decided, ""))
	kind := []review.OutcomeKind{review.Saved, review.Churned, review.StillAtRisk, ""}[n%4]
	if kind != "" {
		at := decided.AddDate(0, 0, 14)
		p.State, p.Outcome = review.Closed, &review.Outcome{Kind: kind, Actor: owner, At: at}
		events = append(events, ev(review.EventKind(kind), at, ""))
	}
	return p, events
}
