package store

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
)

func TestSQLiteReservations(t *testing.T) {
	testReservations(t, mustOpen(t, "", t.TempDir()))
	testDecidedPacketStays(t, mustOpen(t, "", t.TempDir()))
	testReservationBackfill(t, mustOpen(t, "", t.TempDir()))
}

func TestPostgresReservations(t *testing.T) {
	if os.Getenv(postgresDSNEnv) == "" {
		t.Skipf("PostgreSQL tests skipped: set %s=postgres://... (eval \"$(bash .ci/postgres.sh)\" starts one)", postgresDSNEnv)
	}
	dsn, dir := postgresLocation(t)
	testReservations(t, mustOpen(t, dsn, dir))
	dsn, dir = postgresLocation(t)
	testDecidedPacketStays(t, mustOpen(t, dsn, dir))
	dsn, dir = postgresLocation(t)
	testReservationBackfill(t, mustOpen(t, dsn, dir))
}

// testReservations: two reviews of different cycles racing for one account
// get one reservation between them; a retried reservation of the holder
// succeeds; a release by anyone but the holder does nothing; a released
// account can be reserved again.
func testReservations(t *testing.T, st Store) {
	ctx := context.Background()
	week1, week2 := "2026-11-16", "2026-11-23"
	var wg sync.WaitGroup
	won := make(chan string, 8)
	for i := range cap(won) {
		cycle := []string{week1, week2}[i%2]
		wg.Go(func() {
			_, reserved, err := st.ReserveAccount(ctx, Reservation{AccountID: "A-1", ReviewID: review.ID("A-1", cycle), Cycle: cycle, ReservedAt: t0})
			if err != nil {
				t.Error(err)
			}
			if reserved {
				won <- cycle
			}
		})
	}
	wg.Wait()
	close(won)
	var cycles []string
	for c := range won {
		cycles = append(cycles, c)
	}
	if len(cycles) == 0 || len(cycles) != cap(won)/2 || cycles[0] != cycles[len(cycles)-1] {
		t.Fatalf("reservations won by %v: want the retries of one review only", cycles)
	}
	holder, loser := review.ID("A-1", cycles[0]), review.ID("A-1", week1)
	if cycles[0] == week1 {
		loser = review.ID("A-1", week2)
	}
	if err := st.SetReservationRun(ctx, "A-1", holder, "run-1"); err != nil {
		t.Fatal(err)
	}
	if err := st.ReleaseAccount(ctx, "A-1", loser); err != nil {
		t.Fatal(err)
	}
	held, err := st.AccountReservations(ctx, []string{"A-1", "A-2"})
	if err != nil {
		t.Fatal(err)
	}
	if r := held["A-1"]; len(held) != 1 || r.ReviewID != holder || r.RunID != "run-1" || !r.ReservedAt.Equal(t0) {
		t.Fatalf("reservations %+v: want A-1 held by %s, run-1", held, holder)
	}
	if err := st.ReleaseAccount(ctx, "A-1", holder); err != nil {
		t.Fatal(err)
	}
	if r, reserved, err := st.ReserveAccount(ctx, Reservation{AccountID: "A-1", ReviewID: loser, ReservedAt: t0}); err != nil || !reserved || r.ReviewID != loser {
		t.Fatalf("reserve after release: %+v %v %v", r, reserved, err)
	}
}

// testDecidedPacketStays: an undecided packet never replaces a decided one
// of the same review ID, however new (a rescan after the namespace's
// retention); the decided review moves on as before.
func testDecidedPacketStays(t *testing.T, st Store) {
	ctx := context.Background()
	week := "2026-11-16"
	decided := review.Packet{ReviewID: review.ID("A-1", week), AccountID: "A-1", Owner: "dana", Cycle: week,
		State: review.Rejected, Severity: risk.Critical, CreatedAt: t0, UpdatedAt: t0.Add(time.Hour),
		Decision: &review.Decision{Kind: review.Reject, Actor: "dana", Reason: "known outage", At: t0.Add(time.Hour)}}
	if err := st.SavePacket(ctx, decided); err != nil {
		t.Fatal(err)
	}
	for _, s := range []review.State{review.Drafting, review.AwaitingApproval} {
		rescan := review.Packet{ReviewID: decided.ReviewID, AccountID: "A-1", Owner: "dana", Cycle: week,
			State: s, Severity: risk.Critical, CreatedAt: t0.Add(90 * 24 * time.Hour), UpdatedAt: t0.Add(90 * 24 * time.Hour)}
		if err := st.SavePacket(ctx, rescan); err != nil {
			t.Fatal(err)
		}
		got, err := st.Packet(ctx, decided.ReviewID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != review.Rejected || got.Decision == nil {
			t.Fatalf("a %s packet replaced the decided one: %+v", s, got)
		}
	}
	later := decided
	later.State, later.UpdatedAt = review.Closed, t0.Add(2*time.Hour)
	if err := st.SavePacket(ctx, later); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Packet(ctx, decided.ReviewID); err != nil || got.State != review.Closed {
		t.Fatalf("a decided packet's next state was not saved: %+v %v", got, err)
	}
}

// testReservationBackfill: the migration that brings reservations reserves
// each account with open reviews for its earliest, and none for accounts
// whose reviews are all rejected or closed.
func testReservationBackfill(t *testing.T, st Store) {
	ctx := context.Background()
	week1, week2 := "2026-11-16", "2026-11-23"
	for _, p := range []review.Packet{
		{ReviewID: review.ID("A-1", week1), AccountID: "A-1", Cycle: week1, State: review.AwaitingApproval},
		{ReviewID: review.ID("A-1", week2), AccountID: "A-1", Cycle: week2, State: review.Drafting},
		{ReviewID: review.ID("A-2", week1), AccountID: "A-2", Cycle: week1, State: review.Closed},
		{ReviewID: review.ID("A-2", week2), AccountID: "A-2", Cycle: week2, State: review.Rejected},
		{ReviewID: review.ID("A-3", week2), AccountID: "A-3", Cycle: week2, State: review.AwaitingOutcome},
	} {
		p.CreatedAt, p.UpdatedAt = t0, t0
		if err := st.SavePacket(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	s := st.(*sqlStore)
	ms, err := loadMigrations(s.d)
	if err != nil {
		t.Fatal(err)
	}
	var sql string
	for _, m := range ms {
		if strings.HasSuffix(m.name, "_review_reservations.sql") {
			sql = m.sql
		}
	}
	if _, err := s.db.ExecContext(ctx, "DROP TABLE review_reservations"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, sql); err != nil {
		t.Fatalf("migration: %v", err)
	}
	held, err := st.AccountReservations(ctx, []string{"A-1", "A-2", "A-3"})
	if err != nil {
		t.Fatal(err)
	}
	if len(held) != 2 || held["A-1"].ReviewID != review.ID("A-1", week1) || held["A-3"].ReviewID != review.ID("A-3", week2) || !held["A-1"].ReservedAt.Equal(t0) {
		t.Fatalf("backfilled %+v: want A-1 held by its %s review and A-3 by its %s one", held, week1, week2)
	}
}
