package store

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/churnwatch/churnwatch/review"
)

func TestSQLiteAccountPackets(t *testing.T) {
	testAccountPackets(t, mustOpen(t, "", t.TempDir()))
}

func TestPostgresAccountPackets(t *testing.T) {
	if os.Getenv(postgresDSNEnv) == "" {
		t.Skipf("PostgreSQL tests skipped: set %s=postgres://... (eval \"$(bash .ci/postgres.sh)\" starts one)", postgresDSNEnv)
	}
	dsn, dir := postgresLocation(t)
	testAccountPackets(t, mustOpen(t, dsn, dir))
}

// testAccountPackets: the named accounts' packets only, each account's in
// cycle order whatever order they were saved in; no accounts, no packets.
func testAccountPackets(t *testing.T, st Store) {
	ctx := context.Background()
	for _, id := range []string{"review/A-2/2026-11-16", "review/A-2/2026-10-19", "review/A-1/2026-11-02", "review/A-3/2026-11-02"} {
		acct, cycle := id[len("review/"):len("review/A-1")], id[len(id)-len("2026-11-16"):]
		p := review.Packet{ReviewID: id, AccountID: acct, Owner: "dana", Cycle: cycle, State: review.Rejected, UpdatedAt: t0}
		if err := st.SavePacket(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.AccountPackets(ctx, []string{"A-2", "A-1", "A-2", "A-9"})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(ps []review.Packet) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.ReviewID)
		}
		return out
	}
	if len(got) != 2 {
		t.Errorf("packets of %d accounts, want A-1 and A-2 only: %v", len(got), got)
	}
	if want := []string{"review/A-2/2026-10-19", "review/A-2/2026-11-16"}; !slices.Equal(ids(got["A-2"]), want) {
		t.Errorf("A-2: %v, want %v", ids(got["A-2"]), want)
	}
	if want := []string{"review/A-1/2026-11-02"}; !slices.Equal(ids(got["A-1"]), want) {
		t.Errorf("A-1: %v, want %v", ids(got["A-1"]), want)
	}
	if none, err := st.AccountPackets(ctx, nil); err != nil || len(none) != 0 {
		t.Errorf("no accounts: %v, %v; want none", none, err)
	}
}
