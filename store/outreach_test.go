package store

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"
)

func TestSQLiteOutreach(t *testing.T) {
	testOutreach(t, mustOpen(t, "", t.TempDir()))
}

func TestPostgresOutreach(t *testing.T) {
	if os.Getenv(postgresDSNEnv) == "" {
		t.Skipf("PostgreSQL tests skipped: set %s=postgres://... (eval \"$(bash .ci/postgres.sh)\" starts one)", postgresDSNEnv)
	}
	dsn, dir := postgresLocation(t)
	testOutreach(t, mustOpen(t, dsn, dir))
}

// testOutreach: one claim per review however many ask at once; a claim is
// released only while sending; a sent record stays and is returned to
// every later claim.
func testOutreach(t *testing.T, st Store) {
	ctx := context.Background()
	o := Outreach{ReviewID: "review/A-1/2026-11-16", To: "Ana <ana@customer.example>", MessageID: "<1@example.com>", ClaimedAt: t0}

	var wg sync.WaitGroup
	claims := make(chan bool, 8)
	for range cap(claims) {
		wg.Go(func() {
			_, claimed, err := st.ClaimOutreach(ctx, o, time.Time{})
			if err != nil {
				t.Error(err)
			}
			claims <- claimed
		})
	}
	wg.Wait()
	close(claims)
	won := 0
	for c := range claims {
		if c {
			won++
		}
	}
	if won != 1 {
		t.Fatalf("%d claims won, want 1", won)
	}

	other := o
	other.To, other.MessageID = "eve@example.com", "<2@example.com>"
	rec, claimed, err := st.ClaimOutreach(ctx, other, time.Time{})
	if err != nil || claimed || rec.State != OutreachSending || rec.To != o.To || rec.MessageID != o.MessageID || !rec.ClaimedAt.Equal(t0) {
		t.Fatalf("a second claim: %+v %v %v", rec, claimed, err)
	}

	if err := st.ReleaseOutreach(ctx, o.ReviewID); err != nil {
		t.Fatal(err)
	}
	if _, claimed, err := st.ClaimOutreach(ctx, o, time.Time{}); err != nil || !claimed {
		t.Fatalf("a claim after a release: %v %v", claimed, err)
	}
	sentAt := t0.Add(3e9)
	if err := st.MarkOutreachSent(ctx, o.ReviewID, sentAt); err != nil {
		t.Fatal(err)
	}
	if err := st.ReleaseOutreach(ctx, o.ReviewID); err != nil {
		t.Fatal(err)
	}
	rec, claimed, err = st.ClaimOutreach(ctx, other, time.Time{})
	if err != nil || claimed || rec.State != OutreachSent || rec.MessageID != o.MessageID || !rec.SentAt.Equal(sentAt) {
		t.Fatalf("a claim after the send: %+v %v %v (a release must not undo a send)", rec, claimed, err)
	}
	if err := st.MarkOutreachSent(ctx, "review/none/2026-11-16", sentAt); !errors.Is(err, ErrNotFound) {
		t.Errorf("marking an unknown review: %v", err)
	}
}
