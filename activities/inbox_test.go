package activities

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/workflows"
)

// lastWeek is the book's (examples/portfolio.csv) last week, the one
// re-uploaded corrected below.
const lastWeek = "2026-11-16"

// weekOfBook returns the book's rows of lastWeek as a CSV file, with
// A-1006's logins set to logins ("" keeps them): at 20 instead of 958 the
// account goes from watch to elevated.
func weekOfBook(t *testing.T, logins string) []byte {
	t.Helper()
	raw, err := os.ReadFile(book(t))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	out := []string{lines[0]}
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if f[2] != lastWeek {
			continue
		}
		if f[0] == "A-1006" && logins != "" {
			f[6] = logins // the logins column
		}
		out = append(out, strings.Join(f, ","))
	}
	return []byte(strings.Join(out, "\n") + "\n")
}

// accountAt returns what the store holds for A-1006 in lastWeek: its
// snapshot's logins and its score's tier.
func accountAt(t *testing.T, st store.Store) (logins int, tier risk.Tier) {
	t.Helper()
	ctx := context.Background()
	rows, err := st.History(ctx, []string{"A-1006"}, lastWeek)
	if err != nil || len(rows) == 0 {
		t.Fatalf("A-1006's history: %d rows, %v", len(rows), err)
	}
	scores, err := st.ScoresAsOf(ctx, lastWeek, "A-1006")
	if err != nil || len(scores) != 1 {
		t.Fatalf("A-1006's scores of %s: %+v, %v", lastWeek, scores, err)
	}
	return rows[len(rows)-1].Logins.V, scores[0].Tier
}

// TestInboxScansEachUploadOnce: the scheduled scan imports the files
// dropped into the inbox folder, archives them under their batch and never
// reads them again; a corrected re-upload of a week is all the next scan
// reads, and its rows and the scores made from them replace the old ones.
func TestInboxScansEachUploadOnce(t *testing.T) {
	a, env := newActivities(t)
	ctx := context.Background()
	dir := t.TempDir()
	whole, err := os.ReadFile(book(t))
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(dir, "portfolio.csv"), whole, 0o644))
	stale, fresh := filepath.Join(dir, ".upload-1.part"), filepath.Join(dir, ".upload-2.part")
	must(t, os.WriteFile(stale, []byte("half"), 0o644))
	must(t, os.WriteFile(fresh, []byte("half"), 0o644))
	must(t, os.Chtimes(stale, time.Now().Add(-2*time.Hour), time.Now().Add(-2*time.Hour)))
	scan := workflows.ScanInput{Inbox: dir}

	first := execute[workflows.IngestResult](t, env, "Ingest", scan)
	if len(first.Files) != 1 || !strings.HasSuffix(first.Files[0], "/portfolio.csv") || first.Rows != 600 || first.AsOf != lastWeek {
		t.Fatalf("first scan: files %v, %d rows as of %s", first.Files, first.Rows, first.AsOf)
	}
	archived := filepath.Join(dir, "archive", first.BatchID, "portfolio.csv")
	if got, err := os.ReadFile(archived); err != nil || string(got) != string(whole) {
		t.Fatalf("the dropped file is not archived whole at %s: %v", archived, err)
	}
	for path, want := range map[string]bool{filepath.Join(dir, "portfolio.csv"): false, stale: false, fresh: true} {
		if _, err := os.Stat(path); (err == nil) != want {
			t.Errorf("%s: present %v, want %v", filepath.Base(path), err == nil, want)
		}
	}
	scoreChunks(t, env, first, 0)
	if logins, tier := accountAt(t, a.Store); logins != 958 || tier != risk.Watch {
		t.Fatalf("after the first scan A-1006 has %d logins, tier %s; want 958, watch", logins, tier)
	}

	// The corrected week, as POST /api/snapshots keeps it.
	if _, err := a.Store.AddUpload(ctx, store.Upload{ID: "upload-2", Name: "week47.csv", Content: weekOfBook(t, "20")}); err != nil {
		t.Fatal(err)
	}
	second := execute[workflows.IngestResult](t, env, "Ingest", scan)
	if len(second.Files) != 1 || second.Files[0] != "upload-2/week47.csv" || second.Rows != 50 || second.AccountCount != 50 {
		t.Fatalf("second scan read %v, %d rows of %d accounts; want only the new upload's 50", second.Files, second.Rows, second.AccountCount)
	}
	got := scoreChunks(t, env, second, 0)
	if logins, tier := accountAt(t, a.Store); logins != 20 || tier != risk.Elevated {
		t.Fatalf("after the corrected week A-1006 has %d logins, tier %s; want 20, elevated", logins, tier)
	}
	if !hasCandidate(got, "A-1006") {
		t.Errorf("the rescan's candidates %+v lack A-1006, now elevated", got.Candidates)
	}
	heads, err := a.Store.ScoreRows(ctx, lastWeek)
	if err != nil || len(heads) != 50 {
		t.Fatalf("%s's scores: %d, %v; want one per account", lastWeek, len(heads), err)
	}

	// Nothing new: the scan says so, and the archive is not read again.
	if _, err := env.ExecuteActivity("Ingest", scan); err == nil || !strings.Contains(err.Error(), "no new upload") {
		t.Fatalf("a scan of an inbox with nothing new: %v", err)
	}
	if _, err := os.Stat(archived); err != nil {
		t.Errorf("the archive lost the file: %v", err)
	}
}

// TestInboxNewestUploadStands: two pending uploads of the same week are
// read oldest first (by upload time, whatever their IDs), so the newer one's
// row stands, and the scan says so.
func TestInboxNewestUploadStands(t *testing.T) {
	a, env := newActivities(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 17, 8, 0, 0, 0, time.UTC)
	for _, u := range []store.Upload{
		{ID: "upload-b", Name: "week47.csv", UploadedAt: at, Content: weekOfBook(t, "20")},
		{ID: "upload-a", Name: "week47-fixed.csv", UploadedAt: at.Add(time.Minute), Content: weekOfBook(t, "")},
	} {
		if _, err := a.Store.AddUpload(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	res := execute[workflows.IngestResult](t, env, "Ingest", workflows.ScanInput{Inbox: t.TempDir()})
	if res.Rows != 50 || len(res.Rejected) != 0 || strings.Join(res.Files, " ") != "upload-b/week47.csv upload-a/week47-fixed.csv" {
		t.Fatalf("read %v: %d rows, %d rejected", res.Files, res.Rows, len(res.Rejected))
	}
	if !strings.Contains(strings.Join(res.Warnings, "\n"), "upload-a/week47-fixed.csv restates 50 account-weeks") {
		t.Errorf("warnings %q do not say the later upload restates the earlier", res.Warnings)
	}
	rows, err := a.Store.History(ctx, []string{"A-1006"}, lastWeek)
	if err != nil || len(rows) != 1 || rows[0].Logins.V != 958 {
		t.Fatalf("A-1006's week: %+v, %v; want the newer upload's 958 logins", rows, err)
	}
}

func hasCandidate(res workflows.ScoreResult, account string) bool {
	for _, c := range res.Candidates {
		if c.AccountID == account {
			return true
		}
	}
	return false
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
