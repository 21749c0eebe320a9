package digest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/decision"
	"github.com/churnwatch/churnwatch/identity"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/store"
)

// The digest's record: a 100,000-account book with a review for a third
// of the accounts, 25,000 of them open, owned by 160 CSMs in 30 teams,
// and 200 users in all.
const (
	benchAccounts = 100_000
	benchOpen     = 25_000
	benchDecided  = 8_000
	benchCSMs     = 160
	benchManagers = 30
	benchLeaders  = 10
)

// BenchmarkBuildDigests measures building every user's daily digest from
// that record (one read of the open queue, each user's scope, the text).
// Filling the record takes a while and is not timed; the SQLite file is
// kept between runs in $CHURNWATCH_BENCH_CACHE, else the system's
// temporary directory (churnwatch-digest-100000); delete it to start over.
//
//	go test -run '^$' -bench BuildDigests -benchtime 3x ./digest
func BenchmarkBuildDigests(b *testing.B) {
	ctx := context.Background()
	cache := os.Getenv("CHURNWATCH_BENCH_CACHE")
	if cache == "" {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, fmt.Sprintf("churnwatch-digest-%d", benchAccounts))
	st, err := store.Open(ctx, "", dir)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := fillBench(ctx, st); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var ds []Digest
	for b.Loop() {
		if ds, err = Build(ctx, st, Options{PagesURL: "https://cw.example.com", Now: now}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	listed := 0
	for _, d := range ds {
		listed += len(d.Rows)
	}
	b.ReportMetric(float64(len(ds)), "digests")
	b.ReportMetric(float64(listed), "reviews_listed")
}

// fillBench stores the users and reviews unless a cached record holds them.
func fillBench(ctx context.Context, st store.Store) error {
	users, err := st.Users(ctx)
	if err != nil {
		return err
	}
	if _, open, err := st.Queue(ctx, store.QueueFilter{States: decision.OpenStates, Limit: 1}); err != nil {
		return err
	} else if len(users) == 200 && open == benchOpen {
		return nil
	}
	if len(users) != 0 {
		return fmt.Errorf("the cached record is partial (%d users): delete it", len(users))
	}
	var all []identity.User
	for i := range benchManagers {
		all = append(all, identity.User{Name: fmt.Sprintf("mgr%02d", i), Role: identity.Manager, Email: fmt.Sprintf("mgr%02d@example.com", i)})
	}
	for i := range benchLeaders {
		all = append(all, identity.User{Name: fmt.Sprintf("lead%02d", i), Role: identity.Leader, Email: fmt.Sprintf("lead%02d@example.com", i)})
	}
	for i := range benchCSMs {
		u := identity.User{Name: fmt.Sprintf("csm%03d", i), Role: identity.CSM, Manager: fmt.Sprintf("mgr%02d", i%benchManagers)}
		if i%10 != 0 { // one in ten has no email
			u.Email = u.Name + "@example.com"
		}
		all = append(all, u)
	}
	for _, u := range all {
		if err := st.AddUser(ctx, u, ""); err != nil {
			return err
		}
	}
	for i := range benchOpen + benchDecided {
		id := fmt.Sprintf("ACC-%06d", i*benchAccounts/(benchOpen+benchDecided))
		owner := fmt.Sprintf("csm%03d", i%benchCSMs)
		state := review.AwaitingApproval
		switch {
		case i >= benchOpen:
			state = review.Closed
		case i%9 == 0:
			state = review.Drafting
		}
		tier, sla := risk.Elevated, 168
		if i%7 == 0 {
			tier, sla = risk.Critical, 48
		}
		created := now.Add(-time.Duration(i%300) * time.Hour)
		a := risk.Assessment{AccountID: id, AccountName: "Account " + id, Owner: owner, AsOf: "2026-11-16", Tier: tier, Score: 40 + i%60,
			ARR: float64(5_000 + (i%97)*2_500), Urgency: float64((i * 7919) % 100_000), SLAHours: sla}
		p := review.Packet{ReviewID: review.ID(id, "2026-11-16"), AccountID: id, AccountName: a.AccountName, Owner: owner, Cycle: "2026-11-16",
			State: state, Severity: tier, Assessment: a, CreatedAt: created, UpdatedAt: created}
		if err := st.SavePacket(ctx, p); err != nil {
			return fmt.Errorf("save review %d: %w", i, err)
		}
	}
	return nil
}
