package activities

import (
	"context"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/store"
)

// TestClosingAReviewReleasesItsAccount: the account stays held while the
// review waits or acts, and is free once the review is rejected or closed.
func TestClosingAReviewReleasesItsAccount(t *testing.T) {
	for _, final := range []review.State{review.Rejected, review.Closed} {
		t.Run(string(final), func(t *testing.T) {
			a, env := newActivities(t)
			ctx := context.Background()
			id := review.ID("A-1", "2026-11-16")
			if _, _, err := a.Store.ReserveAccount(ctx, store.Reservation{AccountID: "A-1", ReviewID: id, Cycle: "2026-11-16", ReservedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
			held := func() bool {
				t.Helper()
				r, err := a.Store.AccountReservations(ctx, []string{"A-1"})
				if err != nil {
					t.Fatal(err)
				}
				return r["A-1"].ReviewID == id
			}
			at := time.Date(2026, 11, 17, 9, 0, 0, 0, time.UTC)
			for i, s := range []review.State{review.AwaitingApproval, review.ActionAssigned, final} {
				p := review.Packet{ReviewID: id, AccountID: "A-1", Cycle: "2026-11-16", State: s, UpdatedAt: at.Add(time.Duration(i) * time.Hour)}
				if s != review.AwaitingApproval {
					p.Decision = &review.Decision{Kind: review.Approve, Actor: "dana"}
				}
				if _, err := env.ExecuteActivity("SavePacket", p); err != nil {
					t.Fatal(err)
				}
				if want := s != final; held() != want {
					t.Fatalf("after saving a %s packet: held %v, want %v", s, !want, want)
				}
			}
		})
	}
}
