package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/review"
)

// The outbox and report suites run against both backends, like testStore.

func TestSQLiteOutbox(t *testing.T) {
	testOutbox(t, func(t *testing.T) (string, string) { return "", t.TempDir() })
}

func TestPostgresOutbox(t *testing.T) {
	if os.Getenv(postgresDSNEnv) == "" {
		t.Skipf("PostgreSQL tests skipped: set %s=postgres://...", postgresDSNEnv)
	}
	testOutbox(t, func(t *testing.T) (string, string) { return postgresLocation(t) })
}

func testOutbox(t *testing.T, location func(t *testing.T) (dsn, dataDir string)) {
	open := func(t *testing.T) Store {
		dsn, dir := location(t)
		return mustOpen(t, dsn, dir)
	}
	t.Run("AddIsIdempotent", func(t *testing.T) { testAddNotice(t, open(t)) })
	t.Run("ClaimLeasesAndSettles", func(t *testing.T) { testClaimNotices(t, open(t)) })
	t.Run("RacingClaimersNeverShare", func(t *testing.T) { testRacingClaims(t, open(t)) })
	t.Run("Reports", func(t *testing.T) { testReports(t, open(t)) })
}

func notice(key, to string, at time.Time) OutboxNotice {
	return OutboxNotice{Key: key, Notice: review.Notice{ReviewID: "review/A-1/2026-11-16", To: to, Kind: review.EventReminded, Message: "past SLA " + key}, Created: at}
}

func testAddNotice(t *testing.T, st Store) {
	ctx := context.Background()
	n := notice("run/1/5", "dana", t0)
	for i, want := range []bool{true, false} {
		added, err := st.AddNotice(ctx, n)
		if err != nil || added != want {
			t.Fatalf("add %d: added %v, %v; want %v", i+1, added, err, want)
		}
	}
	got, err := st.Notices(ctx, NoticeFilter{})
	if err != nil || len(got) != 1 {
		t.Fatalf("notices: %+v %v", got, err)
	}
	g := got[0]
	if g.Key != n.Key || g.Notice != n.Notice || !g.Created.Equal(t0) || g.State != NoticePending || g.Attempts != 0 ||
		!g.NextAttempt.Equal(t0) || len(g.Channels) != 0 {
		t.Errorf("stored %+v", g)
	}
	if _, err := st.AddNotice(ctx, OutboxNotice{}); err == nil {
		t.Error("a notice without a key was added")
	}
}

func testClaimNotices(t *testing.T, st Store) {
	ctx := context.Background()
	for i, at := range []time.Time{t0, t0.Add(time.Minute), t0.Add(time.Hour)} {
		if _, err := st.AddNotice(ctx, notice(fmt.Sprint("k", i), "dana", at)); err != nil {
			t.Fatal(err)
		}
	}
	now := t0.Add(2 * time.Minute)
	claimed, err := st.ClaimNotices(ctx, "a", now, time.Minute, 10)
	if err != nil || len(claimed) != 2 || claimed[0].Key != "k0" || claimed[1].Key != "k1" {
		t.Fatalf("claim: %+v %v; want k0 and k1, due by now", claimed, err)
	}
	if again, err := st.ClaimNotices(ctx, "b", now, time.Minute, 10); err != nil || len(again) != 0 {
		t.Fatalf("b claimed %+v %v while a holds the lease", again, err)
	}
	// a settles k0; b, who holds no lease on k1, cannot settle it.
	k0 := claimed[0]
	k0.Attempts, k0.State, k0.Channels = 1, NoticeSent, map[string]string{"webhook": ChannelDone}
	if ok, err := st.SettleNotice(ctx, "a", k0); err != nil || !ok {
		t.Fatalf("settle k0: %v %v", ok, err)
	}
	k1 := claimed[1]
	k1.Attempts, k1.State, k1.NextAttempt, k1.LastError = 1, NoticePending, now.Add(30*time.Second), "webhook: connection refused"
	if ok, err := st.SettleNotice(ctx, "b", k1); err != nil || ok {
		t.Fatalf("b settled a's notice: %v %v", ok, err)
	}
	// a's lease on k1 runs out before a settles: b takes it over, and a's
	// late word is ignored.
	later := now.Add(2 * time.Minute)
	taken, err := st.ClaimNotices(ctx, "b", later, time.Minute, 10)
	if err != nil || len(taken) != 1 || taken[0].Key != "k1" {
		t.Fatalf("after the lease: %+v %v", taken, err)
	}
	if ok, err := st.SettleNotice(ctx, "a", k1); err != nil || ok {
		t.Fatalf("a settled after losing the lease: %v %v", ok, err)
	}
	if ok, err := st.SettleNotice(ctx, "b", k1); err != nil || !ok {
		t.Fatalf("b settles k1: %v %v", ok, err)
	}
	// A settled notice is not claimed again before its next attempt, nor
	// ever once sent.
	if got, _ := st.ClaimNotices(ctx, "c", now.Add(20*time.Second), time.Minute, 10); len(got) != 0 {
		t.Errorf("claimed before the next attempt: %+v", got)
	}
	pending, err := st.Notices(ctx, NoticeFilter{State: NoticePending})
	if err != nil || len(pending) != 2 || pending[0].Key != "k1" || pending[0].Attempts != 1 || pending[0].LastError == "" {
		t.Fatalf("pending: %+v %v", pending, err)
	}
	sent, err := st.Notices(ctx, NoticeFilter{State: NoticeSent, ReviewID: "review/A-1/2026-11-16"})
	if err != nil || len(sent) != 1 || sent[0].Channels["webhook"] != ChannelDone {
		t.Fatalf("sent: %+v %v", sent, err)
	}
}

// testRacingClaims: claimers running at once on one store each get their
// own notices, and between them all of them, never one twice.
func testRacingClaims(t *testing.T, st Store) {
	ctx := context.Background()
	const notices, claimers = 60, 4
	for i := range notices {
		if _, err := st.AddNotice(ctx, notice(fmt.Sprintf("k%02d", i), "dana", t0)); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	seen := map[string]string{}
	var wg sync.WaitGroup
	for c := range claimers {
		owner := fmt.Sprint("claimer-", c)
		wg.Go(func() {
			for {
				got, err := st.ClaimNotices(ctx, owner, t0.Add(time.Second), time.Hour, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, n := range got {
					if prev, ok := seen[n.Key]; ok {
						t.Errorf("%s claimed by %s and %s", n.Key, prev, owner)
					}
					seen[n.Key] = owner
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != notices {
		t.Errorf("%d of %d notices claimed", len(seen), notices)
	}
}

func testReports(t *testing.T, st Store) {
	ctx := context.Background()
	big := bytes.Repeat([]byte("A-1001,critical,85\n"), 200_000) // ~3.8 MB, over Temporal's 2 MB
	r := Report{ID: "report-1", Week: "2026-11-16", Created: t0, Parts: map[string][]byte{
		ReportSummaryJSON: []byte(`{"week":"2026-11-16"}`), ReportRegister: big, ReportAudit: nil}}
	for range 2 { // a retried activity saves the same report again
		if err := st.SaveReport(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	info, err := st.ReportInfo(ctx, "report-1")
	if err != nil || info.Week != "2026-11-16" || !info.Created.Equal(t0) || info.Kept || len(info.Sizes) != 3 ||
		info.Sizes[ReportRegister] != len(big) || info.Sizes[ReportAudit] != 0 || info.Parts != nil {
		t.Fatalf("info: %+v %v", info, err)
	}
	got, err := st.ReportPart(ctx, "report-1", ReportRegister)
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("register: %d bytes, %v", len(got), err)
	}
	if _, err := st.ReportPart(ctx, "report-1", ReportSummaryMD); !errors.Is(err, ErrNotFound) {
		t.Errorf("a missing part: %v", err)
	}
	if _, err := st.ReportInfo(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a missing report: %v", err)
	}
	weekly := Report{ID: "report-2", Week: "2026-11-16", Created: t0, Kept: true, Parts: map[string][]byte{ReportSummaryMD: []byte("# Week")}}
	fresh := Report{ID: "report-3", Week: "2026-11-16", Created: t0.Add(48 * time.Hour), Parts: map[string][]byte{ReportSummaryMD: []byte("# Week")}}
	for _, r := range []Report{weekly, fresh} {
		if err := st.SaveReport(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	n, err := st.PruneReports(ctx, t0.Add(24*time.Hour))
	if err != nil || n != 3 {
		t.Fatalf("pruned %d parts, %v; want report-1's 3", n, err)
	}
	for id, want := range map[string]bool{"report-1": false, "report-2": true, "report-3": true} {
		if _, err := st.ReportInfo(ctx, id); (err == nil) != want {
			t.Errorf("%s after pruning: %v, want kept %v", id, err, want)
		}
	}
}
