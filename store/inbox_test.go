package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/snapshot"
)

// storeLocations are the backends the inbox tests run on; the PostgreSQL one
// skips without CHURNWATCH_TEST_POSTGRES_DSN.
var storeLocations = map[string]func(t *testing.T) (string, string){
	"sqlite":   func(t *testing.T) (string, string) { return "", t.TempDir() },
	"postgres": func(t *testing.T) (string, string) { return postgresLocation(t) },
}

// TestInbox: uploads are kept whole and pending, read oldest first, consumed
// once by the batch that read them (a retry of the same batch and scan reads
// and saves the same again), and never handed to another scan.
func TestInbox(t *testing.T) {
	for name, location := range storeLocations {
		t.Run(name, func(t *testing.T) {
			dsn, dir := location(t)
			testInbox(t, mustOpen(t, dsn, dir))
		})
	}
}

func testInbox(t *testing.T, st Store) {
	ctx := context.Background()
	older := Upload{ID: "up-b", Name: "week46.csv", UploadedAt: t0, Content: []byte("account_id,week\nA-1,2026-11-09\n")}
	newer := Upload{ID: "up-a", Name: "week47.csv", UploadedAt: t0.Add(time.Minute), Content: []byte{0, 1, 2, 0xff}} // any bytes
	for _, u := range []Upload{newer, older} {
		if added, err := st.AddUpload(ctx, u); err != nil || !added {
			t.Fatalf("add %s: %v, %v", u.ID, added, err)
		}
	}
	if added, err := st.AddUpload(ctx, Upload{ID: "up-a", Name: "other.csv", Content: []byte("x")}); err != nil || added {
		t.Fatalf("adding an ID again: %v, %v; want nothing written", added, err)
	}
	if _, err := st.AddUpload(ctx, Upload{Name: "x.csv"}); err == nil {
		t.Error("an upload without an ID was kept")
	}

	got, err := st.ScanUploads(ctx, "scan-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "up-b" || got[1].ID != "up-a" {
		t.Fatalf("pending uploads %+v, want up-b then up-a (upload order)", got)
	}
	sum := sha256.Sum256(newer.Content)
	want := Upload{ID: "up-a", Name: "week47.csv", UploadedAt: newer.UploadedAt, Size: 4, SHA256: hex.EncodeToString(sum[:]),
		State: UploadPending, Content: newer.Content}
	if !reflect.DeepEqual(got[1], want) {
		t.Fatalf("stored upload %+v\nwant %+v", got[1], want)
	}

	b := Batch{ID: "batch-1", SourceFiles: []string{"up-b/week46.csv", "up-a/week47.csv"}, IngestedAt: t0.Add(time.Hour)}
	rows := []snapshot.Snapshot{snap("A-1", week1, 2)}
	for range 2 { // the second is a retried ingest
		if err := st.SaveInboxBatch(ctx, b, rows, []string{"up-b", "up-a"}, "scan-1"); err != nil {
			t.Fatal(err)
		}
	}
	if stored, err := st.BatchRows(ctx, "batch-1"); err != nil || len(stored) != 1 {
		t.Fatalf("the batch's rows: %v, %v", stored, err)
	}
	one, err := st.Upload(ctx, "up-a")
	if err != nil || one.State != UploadConsumed || one.BatchID != "batch-1" || one.ScanID != "scan-1" || one.Content != nil {
		t.Fatalf("consumed upload %+v, %v", one, err)
	}
	if _, err := st.Upload(ctx, "up-z"); !errors.Is(err, ErrNotFound) {
		t.Errorf("an unknown upload: %v, want ErrNotFound", err)
	}

	// The scan's retry reads what it consumed; any other scan finds nothing.
	if again, err := st.ScanUploads(ctx, "scan-1"); err != nil || len(again) != 2 || again[0].ID != "up-b" || again[0].Content == nil {
		t.Fatalf("the retried scan's uploads: %+v, %v", again, err)
	}
	if next, err := st.ScanUploads(ctx, "scan-2"); err != nil || len(next) != 0 {
		t.Fatalf("the next scan's uploads: %+v, %v; want none", next, err)
	}

	// A batch that would read an upload consumed already saves nothing.
	if _, err := st.AddUpload(ctx, Upload{ID: "up-c", Name: "week48.csv", Content: []byte("c")}); err != nil {
		t.Fatal(err)
	}
	err = st.SaveInboxBatch(ctx, Batch{ID: "batch-2", IngestedAt: t0.Add(2 * time.Hour)}, rows, []string{"up-a", "up-c"}, "scan-2")
	if !errors.Is(err, ErrConsumed) {
		t.Fatalf("re-consuming up-a: %v, want ErrConsumed", err)
	}
	if _, err := st.BatchRows(ctx, "batch-2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the refused batch was saved: %v", err)
	}
	if c, err := st.Upload(ctx, "up-c"); err != nil || c.State != UploadPending {
		t.Errorf("up-c after the refused batch: %+v, %v; want pending", c, err)
	}
	err = st.SaveInboxBatch(ctx, Batch{ID: "batch-3", IngestedAt: t0}, rows, []string{"up-z"}, "scan-3")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("consuming an unknown upload: %v, want ErrNotFound", err)
	}
}

// TestInboxSharedByReplicas: two stores on one record (two worker replicas)
// see the same uploads, and when both scan them at once exactly one batch
// consumes them.
func TestInboxSharedByReplicas(t *testing.T) {
	for name, location := range storeLocations {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dsn, dir := location(t)
			one, two := mustOpen(t, dsn, dir), mustOpen(t, dsn, dir)
			if _, err := one.AddUpload(ctx, Upload{ID: "up-1", Name: "w.csv", Content: []byte("a")}); err != nil {
				t.Fatal(err)
			}
			seen, err := two.ScanUploads(ctx, "")
			if err != nil || len(seen) != 1 || string(seen[0].Content) != "a" {
				t.Fatalf("the other replica sees %+v, %v", seen, err)
			}
			rows := []snapshot.Snapshot{snap("A-1", week1, 2)}
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i, st := range []Store{one, two} {
				wg.Go(func() {
					b := Batch{ID: "batch-" + string(rune('a'+i)), IngestedAt: t0}
					errs[i] = st.SaveInboxBatch(ctx, b, rows, []string{"up-1"}, "scan-"+string(rune('a'+i)))
				})
			}
			wg.Wait()
			if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errors.Join(errs...), ErrConsumed) {
				t.Fatalf("both replicas consumed up-1: %v", errs)
			}
			if left, err := one.ScanUploads(ctx, "scan-c"); err != nil || len(left) != 0 {
				t.Fatalf("after the scans: %+v, %v; want nothing pending", left, err)
			}
		})
	}
}

// TestRescoreFromNewerBatch: a week scored again from a batch ingested
// later replaces the stored score (a corrected re-upload); a retry of the
// same batch, an older batch or an unknown one writes nothing.
func TestRescoreFromNewerBatch(t *testing.T) {
	for name, location := range storeLocations {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dsn, dir := location(t)
			st := mustOpen(t, dsn, dir)
			for i, id := range []string{"old", "new"} {
				if err := st.SaveBatch(ctx, Batch{ID: id, IngestedAt: t0.Add(time.Duration(i) * time.Hour)}, nil); err != nil {
					t.Fatal(err)
				}
			}
			save := func(batch string, score int, tier risk.Tier) {
				t.Helper()
				if err := st.SaveScores(ctx, batch, []risk.Assessment{
					assessment("A-1", week1, score, tier, "h1"), assessment("A-2", week1, 20, risk.Healthy, "h1"),
				}); err != nil {
					t.Fatal(err)
				}
			}
			check := func(when string, score int, tier risk.Tier) {
				t.Helper()
				heads, err := st.ScoreRows(ctx, week1)
				if err != nil {
					t.Fatal(err)
				}
				want := []ScoreRow{{"A-1", "dana", tier, score, 50000}, {"A-2", "dana", risk.Healthy, 20, 50000}}
				if !reflect.DeepEqual(heads, want) {
					t.Fatalf("%s: %+v, want %+v", when, heads, want)
				}
				latest, err := st.LatestScores(ctx, week2)
				if err != nil || latest["A-1"].Score != score || len(latest) != 2 {
					t.Fatalf("%s: latest before %s %+v, %v", when, week2, latest, err)
				}
			}
			save("", 40, risk.Watch) // saved before scans named their batch
			save("old", 45, risk.Watch)
			check("an older batch over an unnamed one", 45, risk.Watch)
			stamp, err := st.ScoreStamp(ctx, week1)
			if err != nil {
				t.Fatal(err)
			}
			save("old", 99, risk.Critical)
			check("the same batch again", 45, risk.Watch)
			save("new", 80, risk.Elevated)
			check("a newer batch", 80, risk.Elevated)
			if now, err := st.ScoreStamp(ctx, week1); err != nil || now == stamp || now.Rows != stamp.Rows {
				t.Fatalf("stamp %+v after the replacement, was %+v: want the same count, a new last id", now, stamp)
			}
			save("old", 10, risk.Healthy)
			save("unknown", 10, risk.Healthy)
			check("an older and an unknown batch after it", 80, risk.Elevated)
		})
	}
}
