package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/snapshot"
	"github.com/churnwatch/churnwatch/store"
)

// TestPruneStoreAtStart: a worker prunes as it starts, so a record left
// untouched for months sheds its old uploads and notices at once.
func TestPruneStoreAtStart(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	longAgo := time.Now().Add(-2 * storeRetention)
	if _, err := st.AddUpload(ctx, store.Upload{ID: "up-1", Name: "week.csv", UploadedAt: longAgo, Content: []byte("account_id,week\n")}); err != nil {
		t.Fatal(err)
	}
	week, _ := time.Parse(time.DateOnly, "2026-09-07")
	rows := []snapshot.Snapshot{{AccountID: "A-1", Week: week}}
	if err := st.SaveInboxBatch(ctx, store.Batch{ID: "b-1", IngestedAt: longAgo}, rows, []string{"up-1"}, "scan-1"); err != nil {
		t.Fatal(err)
	}
	n := store.OutboxNotice{Key: "k", Notice: review.Notice{ReviewID: "r", To: "dana", Kind: review.EventReminded, Message: "m"}, Created: longAgo}
	if _, err := st.AddNotice(ctx, n); err != nil {
		t.Fatal(err)
	}
	claimed, err := st.ClaimNotices(ctx, "w", time.Now(), time.Minute, 1)
	if err != nil || len(claimed) != 1 {
		t.Fatal(claimed, err)
	}
	claimed[0].State = store.NoticeSent
	if _, err := st.SettleNotice(ctx, "w", claimed[0]); err != nil {
		t.Fatal(err)
	}

	stop := pruneStore(ctx, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer stop()
	pruned := func() (bool, string) {
		ups, err := st.ScanUploads(ctx, "scan-1")
		if err != nil || len(ups) != 1 || len(ups[0].Content) != 0 {
			return false, fmt.Sprintf("the old upload: %+v, %v; want its content gone", ups, err)
		}
		if left, err := st.Notices(ctx, store.NoticeFilter{}); err != nil || len(left) != 0 {
			return false, fmt.Sprintf("notices left: %+v, %v; want the old sent one gone", left, err)
		}
		return true, ""
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		ok, why := pruned()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(why)
		}
	}
}
