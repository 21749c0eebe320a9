package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
)

// TestRetention: old consumed uploads lose their content, not their
// record; old sent notices go; pending uploads, pending and failed notices,
// and anything newer than the cut stay.
func TestRetention(t *testing.T) {
	for name, location := range storeLocations {
		t.Run(name, func(t *testing.T) {
			dsn, dir := location(t)
			st := mustOpen(t, dsn, dir)
			testPruneUploads(t, st)
			testPruneNotices(t, st)
		})
	}
}

func testPruneUploads(t *testing.T, st Store) {
	ctx := context.Background()
	for _, id := range []string{"up-old", "up-new", "up-pending"} {
		if _, err := st.AddUpload(ctx, Upload{ID: id, Name: id + ".csv", UploadedAt: t0, Content: []byte("account_id,week\n")}); err != nil {
			t.Fatal(err)
		}
	}
	rows := []snapshot.Snapshot{snap("A-1", week1, 2)}
	for i, id := range []string{"up-old", "up-new"} {
		b := Batch{ID: "batch-" + id, IngestedAt: t0.Add(time.Duration(i) * 48 * time.Hour)}
		if err := st.SaveInboxBatch(ctx, b, rows, []string{id}, "scan-"+id); err != nil {
			t.Fatal(err)
		}
	}
	cut := t0.Add(24 * time.Hour)
	for round, want := range []int{1, 0} { // pruning again finds nothing
		if n, err := st.PruneUploads(ctx, cut); err != nil || n != want {
			t.Fatalf("prune round %d: %d, %v; want %d", round, n, err, want)
		}
	}
	if again, err := st.ScanUploads(ctx, "scan-up-old"); err != nil || len(again) != 1 || len(again[0].Content) != 0 || again[0].Size == 0 || again[0].SHA256 == "" {
		t.Errorf("the pruned upload: %+v, %v; want its record without its content", again, err)
	}
	if kept, err := st.ScanUploads(ctx, "scan-up-new"); err != nil || len(kept) != 1 || len(kept[0].Content) == 0 {
		t.Errorf("an upload consumed after the cut lost its content: %+v, %v", kept, err)
	}
	if pending, err := st.ScanUploads(ctx, "scan-next"); err != nil || len(pending) != 1 || len(pending[0].Content) == 0 {
		t.Errorf("the pending upload: %+v, %v; want it whole", pending, err)
	}
}

func testPruneNotices(t *testing.T, st Store) {
	ctx := context.Background()
	states := []NoticeState{NoticeSent, NoticeFailed, NoticePending, NoticeSent}
	for i := range states {
		at := t0
		if i == 3 {
			at = t0.Add(48 * time.Hour) // sent, but after the cut
		}
		if _, err := st.AddNotice(ctx, notice(fmt.Sprint("n", i), "dana", at)); err != nil {
			t.Fatal(err)
		}
	}
	claimed, err := st.ClaimNotices(ctx, "a", t0.Add(72*time.Hour), time.Minute, 10)
	if err != nil || len(claimed) != len(states) {
		t.Fatalf("claim: %d, %v", len(claimed), err)
	}
	for i, n := range claimed {
		n.Attempts, n.State = 1, states[i]
		if ok, err := st.SettleNotice(ctx, "a", n); err != nil || !ok {
			t.Fatalf("settle %s: %v %v", n.Key, ok, err)
		}
	}
	if n, err := st.PruneNotices(ctx, t0.Add(24*time.Hour)); err != nil || n != 1 {
		t.Fatalf("prune notices: %d, %v; want the one old sent notice", n, err)
	}
	left, err := st.Notices(ctx, NoticeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, n := range left {
		keys = append(keys, n.Key)
	}
	if fmt.Sprint(keys) != "[n1 n2 n3]" {
		t.Errorf("notices left %v, want n1 (failed), n2 (pending), n3 (sent after the cut)", keys)
	}
}
