package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/churnwatch/churnwatch/inbox"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/workflows"
)

// TestUploadsAreScannedOnceNewestFirst: over the API, a book, then a
// corrected re-upload of its last week (A-1006's logins 958 → 20, watch →
// elevated). The second scan reads only the new upload, the week's stored
// row and score are the corrected ones and A-1006's review starts; the same
// correction uploaded again rescans and restarts no open review.
func TestUploadsAreScannedOnceNewestFirst(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.HTTP.APIToken = "test-token-0123456789"
	c := startWorker(t, cfg)
	ctx := context.Background()
	whole, err := os.ReadFile(examplePath(t))
	if err != nil {
		t.Fatal(err)
	}
	upload := func(name string, body []byte) (inbox.Receipt, workflows.ScanResult) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, "http://"+cfg.HTTP.Addr+"/api/snapshots?scan=now&name="+name, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+cfg.HTTP.APIToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var rec inbox.Receipt
		if err := json.NewDecoder(resp.Body).Decode(&rec); err != nil || resp.StatusCode != http.StatusAccepted {
			t.Fatalf("upload %s: %s %+v %v", name, resp.Status, rec, err)
		}
		var res workflows.ScanResult
		if err := c.GetWorkflow(ctx, rec.ScanID, "").Get(ctx, &res); err != nil {
			t.Fatalf("scan of %s: %v", name, err)
		}
		return rec, res
	}

	_, first := upload("portfolio.csv", whole)
	if first.Rows != 600 || first.Accounts != 50 || first.AsOf != lastWeek || started(first, "A-1006") {
		t.Fatalf("the book's scan: %d rows, %d accounts as of %s, started %v", first.Rows, first.Accounts, first.AsOf, first.Started)
	}
	fixed, second := upload("week47.csv", correctedWeek(t, whole))
	if second.Rows != 50 || second.Accounts != 50 || second.BatchID == first.BatchID {
		t.Fatalf("the correction's scan read %d rows of %d accounts (batch %s, first %s); want only the new upload",
			second.Rows, second.Accounts, second.BatchID, first.BatchID)
	}
	if !started(second, "A-1006") {
		t.Errorf("the correction's scan started %v; want A-1006's review, now elevated", second.Started)
	}

	st, err := store.Open(ctx, "", cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, err := st.History(ctx, []string{"A-1006"}, lastWeek)
	if err != nil || len(rows) != 12 || rows[11].Logins.V != 20 {
		t.Fatalf("A-1006's stored history: %d rows, %v; want the last week's logins at 20", len(rows), err)
	}
	scores, err := st.ScoresAsOf(ctx, lastWeek, "A-1006")
	if err != nil || len(scores) != 1 || scores[0].Tier != risk.Elevated {
		t.Fatalf("A-1006's score of %s: %+v, %v; want elevated", lastWeek, scores, err)
	}
	if u, err := st.Upload(ctx, fixed.Upload); err != nil || u.State != store.UploadConsumed || u.BatchID != second.BatchID {
		t.Fatalf("the correction upload: %+v, %v; want consumed by %s", u, err, second.BatchID)
	}

	_, third := upload("week47-again.csv", correctedWeek(t, whole))
	if third.StartedCount != 0 || !slices.Contains(third.AlreadyOpen, "A-1006") {
		t.Errorf("the same correction again started %v, already open %v; want nothing new, A-1006 open", third.Started, third.AlreadyOpen)
	}
}

func started(res workflows.ScanResult, account string) bool {
	return slices.ContainsFunc(res.Started, func(c workflows.Candidate) bool { return c.AccountID == account })
}

// lastWeek is the example book's last week.
const lastWeek = "2026-11-16"

// correctedWeek is the book's last week with A-1006's logins at 20.
func correctedWeek(t *testing.T, book []byte) []byte {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(string(book)), "\n")
	out := []string{lines[0]}
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if f[2] != lastWeek {
			continue
		}
		if f[0] == "A-1006" {
			f[6] = "20" // logins
		}
		out = append(out, strings.Join(f, ","))
	}
	if len(out) != 51 {
		t.Fatalf("the book's last week has %d rows, want 50", len(out)-1)
	}
	return []byte(strings.Join(out, "\n") + "\n")
}
