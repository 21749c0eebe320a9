package activities

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/churnwatch/churnwatch/draft"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/snapshot"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/webhook"
	"github.com/churnwatch/churnwatch/workflows"
)

// testActivities are every concern's activities over one store, as a
// worker has them. Store and Model are the ones they share (the embedded
// structs' own would be ambiguous).
type testActivities struct {
	*ScanActivities
	*ReviewActivities
	*DraftActivities
	*NotifyActivities
	*ReportActivities
	Store store.Store
	Model risk.Model
}

// newActivities wires the real engine, offline drafter and a SQLite store in
// a temporary directory, and registers every concern's activities in one
// test environment, as the worker does on its task queue.
func newActivities(t *testing.T) (*testActivities, *testsuite.TestActivityEnvironment) {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	model := risk.DefaultModel()
	a := &testActivities{
		ScanActivities:   &ScanActivities{Store: st, Model: model, DataDir: dir},
		ReviewActivities: &ReviewActivities{Store: st, Model: model},
		DraftActivities:  &DraftActivities{Offline: draft.NewOffline(), CSMLanguage: "en"},
		NotifyActivities: &NotifyActivities{Store: st},
		ReportActivities: &ReportActivities{Store: st},
		Store:            st,
		Model:            model,
	}
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(a.ScanActivities)
	env.RegisterActivity(a.ReviewActivities)
	env.RegisterActivity(a.DraftActivities)
	env.RegisterActivity(a.NotifyActivities)
	env.RegisterActivity(a.ReportActivities)
	return a, env
}

func book(t *testing.T) string {
	p, err := filepath.Abs("../examples/portfolio.csv")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// execute runs the named activity with arg and decodes its result.
func execute[T any](t *testing.T, env *testsuite.TestActivityEnvironment, name string, arg any) T {
	t.Helper()
	v, err := env.ExecuteActivity(name, arg)
	if err != nil {
		t.Fatal(err)
	}
	var res T
	if err := v.Get(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

func ingest(t *testing.T, env *testsuite.TestActivityEnvironment, files ...string) workflows.IngestResult {
	t.Helper()
	return execute[workflows.IngestResult](t, env, "Ingest", workflows.ScanInput{Files: files})
}

// scoreChunks scores every chunk of an ingest as the scan does, by its
// bounds, and merges what the chunks found.
func scoreChunks(t *testing.T, env *testsuite.TestActivityEnvironment, res workflows.IngestResult, jump int) workflows.ScoreResult {
	t.Helper()
	all := workflows.ScoreResult{Tiers: map[risk.Tier]int{}}
	for _, r := range res.Chunks {
		sr := execute[workflows.ScoreResult](t, env, "ScoreChunk", workflows.ScoreRequest{BatchID: res.BatchID, AsOf: res.AsOf, Range: &r, JumpPoints: jump, Peers: res.Peers})
		for tier, n := range sr.Tiers {
			all.Tiers[tier] += n
		}
		all.Candidates = append(all.Candidates, sr.Candidates...)
		all.OpenReviews = append(all.OpenReviews, sr.OpenReviews...)
	}
	return all
}

// chunkAccounts lists the accounts of each chunk of an ingest.
func chunkAccounts(t *testing.T, a *testActivities, res workflows.IngestResult) [][]string {
	t.Helper()
	var out [][]string
	for _, r := range res.Chunks {
		ids, err := a.Store.BatchAccounts(context.Background(), res.BatchID, res.AsOf, r.After, r.Last)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ids)
	}
	return out
}

func TestIngestIsIdempotentAndReportsRejectedRows(t *testing.T) {
	a, env := newActivities(t)
	bad, _ := filepath.Abs("../examples/bad_rows.csv")
	first := ingest(t, env, book(t), bad)
	again := ingest(t, env, book(t), bad)
	if first.BatchID != again.BatchID {
		t.Fatalf("the same input got two batch IDs: %s %s", first.BatchID, again.BatchID)
	}
	if first.AsOf != "2026-11-16" {
		t.Errorf("as-of %s, want the latest week 2026-11-16", first.AsOf)
	}
	if len(first.Rejected) == 0 {
		t.Fatal("bad_rows.csv rejected nothing")
	}
	for _, r := range first.Rejected {
		if r.File == "" || r.Row == 0 || r.Field == "" || r.Reason == "" {
			t.Errorf("rejection without file, row, field and reason: %+v", r)
		}
	}
	// Valid rows of the bad file still go through.
	found := false
	for _, chunk := range chunkAccounts(t, a, first) {
		found = found || slices.Contains(chunk, "A-9001")
	}
	if !found {
		t.Error("a valid account of bad_rows.csv was dropped")
	}
}

func TestIngestRefusesMissingFilesForGood(t *testing.T) {
	_, env := newActivities(t)
	_, err := env.ExecuteActivity("Ingest", workflows.ScanInput{Files: []string{"/nonexistent/book.csv"}})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/book.csv") {
		t.Fatalf("want an error naming the file, got %v", err)
	}
}

func TestScoreChunkFlagsAtRiskAccountsOnceAndSkipsOpenReviews(t *testing.T) {
	a, env := newActivities(t)
	res := ingest(t, env, book(t))
	score := func() workflows.ScoreResult { return scoreChunks(t, env, res, 15) }
	sr := score()
	atRisk := sr.Tiers[risk.Critical] + sr.Tiers[risk.Elevated]
	if atRisk == 0 || len(sr.Candidates) != atRisk {
		t.Fatalf("%d candidates for %d at-risk accounts", len(sr.Candidates), atRisk)
	}
	for _, c := range sr.Candidates {
		if !c.Tier.AtRisk() || c.Reason == "" {
			t.Errorf("candidate %+v", c)
		}
	}
	// Open a review for the first candidate (StartReviews reserves its
	// account): the next scan skips it.
	c := sr.Candidates[0]
	if _, _, err := a.Store.ReserveAccount(context.Background(), store.Reservation{AccountID: c.AccountID, ReviewID: review.ID(c.AccountID, res.AsOf), Cycle: res.AsOf, ReservedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	again := score()
	if len(again.OpenReviews) != 1 || again.OpenReviews[0] != c.AccountID {
		t.Fatalf("open reviews %v, want [%s]", again.OpenReviews, c.AccountID)
	}
	if len(again.Candidates) != atRisk-1 {
		t.Fatalf("%d candidates after opening one review, want %d", len(again.Candidates), atRisk-1)
	}
	scores, err := a.Store.ScoresAsOf(context.Background(), res.AsOf)
	if err != nil {
		t.Fatal(err)
	}
	if len(scores) != res.AccountCount {
		t.Errorf("%d stored scores for %d accounts (a rescore must not duplicate)", len(scores), res.AccountCount)
	}
}

func TestReviewReason(t *testing.T) {
	at := func(tier risk.Tier, score int) risk.Assessment {
		return risk.Assessment{Tier: tier, Score: score, AsOf: "2026-11-16"}
	}
	cases := []struct {
		name      string
		now, prev risk.Assessment
		hasPrev   bool
		want      string
	}{
		{"first scan at risk", at(risk.Critical, 80), risk.Assessment{}, false, "critical at first scan"},
		{"first scan healthy", at(risk.Healthy, 5), risk.Assessment{}, false, ""},
		{"crossed into elevated", at(risk.Elevated, 50), at(risk.Watch, 30), true, "crossed into elevated"},
		{"elevated to critical", at(risk.Critical, 70), at(risk.Elevated, 55), true, "crossed into critical"},
		{"still elevated", at(risk.Elevated, 52), at(risk.Elevated, 50), true, ""},
		{"jump within watch", at(risk.Watch, 38), at(risk.Healthy, 10), true, "jumped 28 points"},
		{"small rise", at(risk.Watch, 30), at(risk.Watch, 25), true, ""},
		{"insufficient evidence is not a crossing", at(risk.InsufficientEvidence, 0), at(risk.Healthy, 0), true, ""},
	}
	for _, c := range cases {
		got := reviewReason(c.now, c.prev, c.hasPrev, 15)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: reason %q, want %q", c.name, got, c.want)
		}
	}
}

func TestNotifyWritesTheOutbox(t *testing.T) {
	a, env := newActivities(t)
	n := review.Notice{ReviewID: "review/A-1/2026-11-16", To: "maria", Kind: review.EventEscalated, Message: "undecided past SLA"}
	if _, err := env.ExecuteActivity("Notify", n); err != nil {
		t.Fatal(err)
	}
	got, err := a.Store.Notices(context.Background(), store.NoticeFilter{ReviewID: n.ReviewID})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Notice != n || got[0].State != store.NoticePending {
		t.Errorf("outbox holds %+v, want %+v pending", got, n)
	}
}

func TestGatherScoreAndDraftOffline(t *testing.T) {
	_, env := newActivities(t)
	res := ingest(t, env, book(t))
	ev := execute[workflows.Evidence](t, env, "GatherEvidence", workflows.EvidenceRequest{AccountID: "A-1001", AsOf: res.AsOf})
	if len(ev.History) != 12 {
		t.Fatalf("history of %d weeks, want the book's 12", len(ev.History))
	}
	a := execute[risk.Assessment](t, env, "ScoreAccount", ev)
	if a.Tier != risk.Critical {
		t.Errorf("the textbook account scores %s (%d)", a.Tier, a.Score)
	}
	d := execute[review.Draft](t, env, "DraftOffline", workflows.DraftRequest{ReviewID: "r", Owner: "dana", Assessment: a, FallbackReason: "the LLM drafter failed: 503"})
	if d.Drafter != "offline" || d.Brief == "" || len(d.Notes) == 0 || !strings.Contains(d.Notes[0], "503") {
		t.Errorf("fallback draft: drafter %q, notes %v", d.Drafter, d.Notes)
	}
}

func TestBuildReportWithNothingScannedSaysSo(t *testing.T) {
	_, env := newActivities(t)
	_, err := env.ExecuteActivity("BuildReport", workflows.SummaryInput{})
	if err == nil || !strings.Contains(err.Error(), "starter scan") {
		t.Fatalf("want an error that says to scan first, got %v", err)
	}
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !appErr.NonRetryable() {
		t.Errorf("no retry can score a week: %v", err)
	}
}

func TestBuildReportAfterAScan(t *testing.T) {
	a, env := newActivities(t)
	res := ingest(t, env, book(t))
	scoreChunks(t, env, res, 0)
	rep := execute[workflows.Report](t, env, "BuildReport", workflows.SummaryInput{Save: true})
	if rep.ID == "" || rep.Week != res.AsOf || len(rep.JSON) != 0 || rep.Register != "" || len(rep.Sizes) != len(store.ReportKinds) {
		t.Fatalf("the workflow gets the report's reference only: %+v", rep)
	}
	var s struct {
		Week  string         `json:"week"`
		Tiers map[string]int `json:"tiers"`
	}
	if err := json.Unmarshal(reportPart(t, a, rep, store.ReportSummaryJSON), &s); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range s.Tiers {
		total += n
	}
	if s.Week != res.AsOf || total != res.AccountCount {
		t.Errorf("summary of %s counts %d accounts, want %d as of %s", s.Week, total, res.AccountCount, res.AsOf)
	}
	register := string(reportPart(t, a, rep, store.ReportRegister))
	if !strings.HasPrefix(register, "account_id") && !strings.Contains(strings.SplitN(register, "\n", 2)[0], "account") {
		t.Errorf("register CSV header: %.80s", register)
	}
	if len(reportPart(t, a, rep, store.ReportSummaryMD)) == 0 || len(reportPart(t, a, rep, store.ReportAudit)) == 0 {
		t.Error("empty markdown or audit")
	}
	if info, err := a.Store.ReportInfo(context.Background(), rep.ID); err != nil || !info.Kept {
		t.Errorf("the weekly copy is not kept: %+v %v", info, err)
	}
}

// TestBuildReportBuildsThePartsAskedFor: a command printing one part asks
// for it alone, and the report holds that part and no other.
func TestBuildReportBuildsThePartsAskedFor(t *testing.T) {
	a, env := newActivities(t)
	res := ingest(t, env, book(t))
	scoreChunks(t, env, res, 0)
	for part, kinds := range map[string][]string{
		workflows.ReportSummary:  {store.ReportSummaryJSON, store.ReportSummaryMD, store.ReportSummaryCSV},
		workflows.ReportAudit:    {store.ReportAudit},
		workflows.ReportRegister: {store.ReportRegister},
	} {
		rep := execute[workflows.Report](t, env, "BuildReport", workflows.SummaryInput{Parts: []string{part}})
		if got := slices.Sorted(maps.Keys(rep.Sizes)); !slices.Equal(got, slices.Sorted(slices.Values(kinds))) {
			t.Errorf("%s: report parts %v, want %v", part, got, kinds)
		}
		for _, kind := range kinds {
			if len(reportPart(t, a, rep, kind)) == 0 {
				t.Errorf("%s: empty %s", part, kind)
			}
		}
	}
}

// reportPart reads one part of a built report from the store, checking
// the size the activity reported.
func reportPart(t *testing.T, a *testActivities, rep workflows.Report, kind string) []byte {
	t.Helper()
	b, err := a.Store.ReportPart(context.Background(), rep.ID, kind)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != rep.Sizes[kind] {
		t.Errorf("%s: %d bytes stored, %d reported", kind, len(b), rep.Sizes[kind])
	}
	return b
}

func TestTheReviewKeepsTheScansAssessment(t *testing.T) {
	a, env := newActivities(t)
	res := ingest(t, env, book(t))
	scoreChunks(t, env, res, 0)
	stored, err := a.Store.ScoresAsOf(context.Background(), res.AsOf, "A-1001")
	if err != nil || len(stored) != 1 {
		t.Fatalf("stored scores of A-1001: %v %v", stored, err)
	}
	ev := execute[workflows.Evidence](t, env, "GatherEvidence", workflows.EvidenceRequest{AccountID: "A-1001", AsOf: res.AsOf})
	if ev.Scored == nil {
		t.Fatal("the scan's assessment did not reach the review")
	}
	got := execute[risk.Assessment](t, env, "ScoreAccount", ev)
	if got.Score != stored[0].Score || got.Tier != stored[0].Tier || got.Priority != stored[0].Priority {
		t.Errorf("review scored %s %d (priority %d), the scan %s %d (priority %d)", got.Tier, got.Score, got.Priority, stored[0].Tier, stored[0].Score, stored[0].Priority)
	}
}

// languageDipBook writes a book of 120 accounts x 12 steady weeks; every
// third account speaks French, and all of those lose 40% of their usage in
// the last three weeks (their August). Measured over the whole book that is
// a common dip (40 French accounts); in a chunk of 30 accounts the ten
// French ones are too few to be peers and look like ten declines.
func languageDipBook(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("account_id,account_name,week,owner,arr,renewal_date,logins,active_users,licensed_seats,dau_mau,feature_adoption,open_tickets,critical_open_tickets,oldest_open_ticket_days,escalations,integration_errors,users_deactivated,champion_departed,last_exec_contact,last_csm_meeting,nps,overdue_invoice_days,downgrade_requested,success_goal,goal_status,notes,strategic,language\n")
	start := time.Date(2026, 5, 25, 0, 0, 0, 0, time.UTC)
	for i := range 120 {
		lang := "en"
		if i%3 == 0 {
			lang = "fr"
		}
		for w := range 12 {
			week := start.AddDate(0, 0, 7*w)
			logins, active := 200+(i*7+w*13)%11, 50+(i+w)%3
			if lang == "fr" && w >= 9 {
				logins, active = logins*6/10, active*6/10
			}
			fmt.Fprintf(&b, "A-%03d,Account %d,%s,dana,60000,2027-03-01,%d,%d,60,0.4,0.6,0,0,0,0,0,0,false,%s,%s,8,0,false,Ship faster,on_track,,false,%s\n",
				i, i, week.Format(time.DateOnly), logins, active, week.AddDate(0, 0, -5).Format(time.DateOnly), week.AddDate(0, 0, -3).Format(time.DateOnly), lang)
		}
	}
	path := filepath.Join(t.TempDir(), "august.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestChunkedScanScoresAsTheWholeBook scans a book in chunks too small to
// see a language's common dip: each chunk must still score every account
// as `starter score` scores the whole file (risk.ScorePortfolio).
func TestChunkedScanScoresAsTheWholeBook(t *testing.T) {
	a, env := newActivities(t)
	path := languageDipBook(t)
	res := execute[workflows.IngestResult](t, env, "Ingest", workflows.ScanInput{Files: []string{path}, ChunkSize: 30})

	batch, err := snapshot.ReadFiles([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	asOf, _ := time.Parse(time.DateOnly, res.AsOf)
	want := map[string]risk.Assessment{}
	for _, s := range a.Model.ScorePortfolio(batch.Rows, asOf) {
		want[s.AccountID] = s
	}
	if len(res.Chunks) != 4 || res.AccountCount != 120 {
		t.Fatalf("120 accounts in chunks of 30: %d accounts, chunks %+v", res.AccountCount, res.Chunks)
	}
	scoreChunks(t, env, res, 0)
	chunkAlone := 0
	for _, chunk := range chunkAccounts(t, a, res) {
		if len(chunk) != 30 {
			t.Fatalf("a chunk of %d accounts, want 30: %v", len(chunk), chunk)
		}
		var rows []snapshot.Snapshot
		for _, r := range batch.Rows {
			if slices.Contains(chunk, r.AccountID) {
				rows = append(rows, r)
			}
		}
		for _, s := range a.Model.ScorePortfolio(rows, asOf) {
			if s.Tier != want[s.AccountID].Tier {
				chunkAlone++
			}
		}
	}
	if chunkAlone == 0 {
		t.Fatal("chunks scored alone agree with the whole book: the book does not exercise the peers")
	}
	stored, err := a.Store.ScoresAsOf(context.Background(), res.AsOf)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(want) {
		t.Fatalf("%d scores stored, %d accounts in the book", len(stored), len(want))
	}
	for _, s := range stored {
		w := want[s.AccountID]
		if s.Tier != w.Tier || s.Score != w.Score {
			t.Errorf("%s: the scan scored %s %d, the whole book %s %d", s.AccountID, s.Tier, s.Score, w.Tier, w.Score)
		}
	}

	// The risk register ranks the whole week, not each chunk apart.
	rep := execute[workflows.Report](t, env, "BuildReport", workflows.SummaryInput{Week: res.AsOf})
	records, err := csv.NewReader(strings.NewReader(string(reportPart(t, a, rep, store.ReportRegister)))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != len(want)+1 {
		t.Fatalf("%d register rows for %d accounts", len(records)-1, len(want))
	}
	for i, rec := range records[1:] {
		id, priority := rec[0], rec[5]
		if priority != strconv.Itoa(i+1) || priority != strconv.Itoa(want[id].Priority) {
			t.Errorf("register row %d: %s at priority %s, the whole book ranks it %d", i+1, id, priority, want[id].Priority)
		}
	}
}

// TestNotifyPostsToTheWebhook sends a notice through the outbox to a
// loopback receiver that answers as a chat webhook does: the POST carries
// the chat line, the notice and its key. A receiver that is down is
// retried; one that refuses the notice (a revoked hook) is not.
func TestNotifyPostsToTheWebhook(t *testing.T) {
	h := &hook{}
	srv := httptest.NewServer(h)
	defer srv.Close()

	a, env := newActivities(t)
	a.Webhook = &webhook.Poster{URL: srv.URL + "/services/T0/B0/secret-token"}
	a.PagesURL = "https://churnwatch.example.com/"
	d := NewDeliverer(a.NotifyActivities)
	n := review.Notice{ReviewID: "review/A-1/2026-11-16", To: "maria", Kind: review.EventEscalated, Message: "undecided past SLA"}
	if _, err := env.ExecuteActivity("Notify", n); err != nil {
		t.Fatal(err)
	}
	if _, err := d.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	page := "https://churnwatch.example.com/review/A-1/2026-11-16"
	h.mu.Lock()
	received, keys := h.received, h.keys
	h.mu.Unlock()
	if len(received) != 1 || received[0].Notice != n || !strings.Contains(received[0].Text, "@maria undecided past SLA") || keys[0] == "" || keys[0] != received[0].Key ||
		received[0].URL != page || !strings.HasSuffix(received[0].Text, " "+page) {
		t.Fatalf("received %+v with keys %q", received, keys)
	}

	// Down, then refusing: each a notice of its own.
	for _, c := range []struct {
		status int
		want   store.NoticeState
	}{{http.StatusServiceUnavailable, store.NoticePending}, {http.StatusNotFound, store.NoticeFailed}} {
		h.set(c.status)
		key := fmt.Sprintf("review/A-1/2026-11-16/run/%d", c.status)
		if _, err := a.Store.AddNotice(context.Background(), store.OutboxNotice{Key: key, Notice: n}); err != nil {
			t.Fatal(err)
		}
		if _, err := d.DeliverDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		got, _ := a.Store.Notices(context.Background(), store.NoticeFilter{State: c.want})
		if len(got) != 1 || got[0].Key != key || got[0].Attempts != 1 {
			t.Fatalf("after a %d: %s notices %+v", c.status, c.want, got)
		}
		if strings.Contains(got[0].LastError, "secret-token") {
			t.Errorf("the error quotes the webhook URL: %v", got[0].LastError)
		}
	}
}
