package main

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/churnwatch/churnwatch/review"
)

const testToken = "tok-dana-0123456789"

// apiRequest is one request the stand-in API received.
type apiRequest struct {
	Method, Path, Query, IdempotencyKey, Accept, ContentType string
	Body                                                     map[string]any
}

// fakeAPI is a loopback stand-in for the worker's API, just enough of its
// contract for the CLI: the bearer token, the review paths, the error
// answers. The end-to-end test against the real worker lives elsewhere.
type fakeAPI struct {
	mu       sync.Mutex
	requests []apiRequest
}

var fakeItems = []review.Item{
	{ReviewID: "review/A-1/2026-11-16", AccountID: "A-1", Tier: "critical", Score: 81, State: "drafting", Owner: "dana"},
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reply := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(v)
	}
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		reply(http.StatusUnauthorized, map[string]string{"error": "a valid bearer token is required"})
		return
	}
	req := apiRequest{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery,
		IdempotencyKey: r.Header.Get("Idempotency-Key"), Accept: r.Header.Get("Accept"), ContentType: r.Header.Get("Content-Type")}
	if r.Method == http.MethodPost {
		if err := json.NewDecoder(r.Body).Decode(&req.Body); err != nil {
			reply(http.StatusUnprocessableEntity, map[string]string{"error": "not JSON"})
			return
		}
	}
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.mu.Unlock()

	packet := review.Packet{ReviewID: "review/A-1/2026-11-16", AccountID: "A-1", Owner: "dana", Cycle: "2026-11-16", State: review.AwaitingApproval}
	switch {
	case r.Method == http.MethodGet && req.Path == "/api/reviews":
		reply(http.StatusOK, fakeItems)
	case r.Method == http.MethodGet && req.Path == "/api/reviews/A-1/2026-11-16":
		reply(http.StatusOK, packet)
	case req.Path == "/api/reviews/A-403/2026-11-16/decision":
		reply(http.StatusForbidden, map[string]string{"error": "dana may not decide review/A-403/2026-11-16 (owner marco)"})
	case req.Path == "/api/reviews/A-409/2026-11-16/decision":
		reply(http.StatusConflict, map[string]string{"error": "review/A-409/2026-11-16 is already decided"})
	case r.Method == http.MethodPost && req.Path == "/api/reviews/A-1/2026-11-16/decision":
		packet.State = review.ActionAssigned
		packet.Decision = &review.Decision{Kind: review.Approve, Actor: "dana"}
		reply(http.StatusOK, packet)
	default:
		reply(http.StatusNotFound, map[string]string{"error": "no such review"})
	}
}

func (f *fakeAPI) taken() []apiRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]apiRequest(nil), f.requests...)
}

// startFakeAPI serves the stand-in and points the CLI at it with a token.
func startFakeAPI(t *testing.T) *fakeAPI {
	t.Helper()
	api := &fakeAPI{}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	t.Setenv("CHURNWATCH_SERVER_URL", srv.URL)
	t.Setenv("CHURNWATCH_TOKEN", testToken)
	return api
}

func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestReviewApproveThroughAPI(t *testing.T) {
	api := startFakeAPI(t)
	edit := filepath.Join(t.TempDir(), "outreach.txt")
	if err := os.WriteFile(edit, []byte("Subject: Checking in\n\nHi Ana,\nshall we talk on Thursday?\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"review", "approve", "review/A-1/2026-11-16", "--edit-file", edit, "--cause", "new VP froze the rollout", "--note", "calling today", "--as", "cs-lead"}
	for range 2 {
		out, errOut, code := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if want := "review/A-1/2026-11-16: approve by dana; state action_assigned\n"; out != want {
			t.Errorf("stdout %q, want %q", out, want)
		}
		if !strings.Contains(errOut, "--as is ignored: the API acts as the token's user") {
			t.Errorf("stderr %q does not say --as is ignored", errOut)
		}
	}

	reqs := api.taken()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2: %+v", len(reqs), reqs)
	}
	got, _ := json.Marshal(reqs[0].Body)
	want := `{"cause":"new VP froze the rollout","decision":"approve","note":"calling today","outreach":{"body":"Hi Ana,\nshall we talk on Thursday?","subject":"Checking in"}}`
	if string(got) != want {
		t.Errorf("body\n%s\nwant\n%s", got, want)
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/api/reviews/A-1/2026-11-16/decision" || r.Accept != "application/json" || r.ContentType != "application/json" {
		t.Errorf("request %+v", r)
	}
	for _, r := range reqs {
		if _, err := uuid.Parse(r.IdempotencyKey); err != nil {
			t.Errorf("Idempotency-Key %q is not a uuid", r.IdempotencyKey)
		}
	}
	if reqs[0].IdempotencyKey == reqs[1].IdempotencyKey {
		t.Error("two invocations sent the same Idempotency-Key")
	}
}

func TestReviewThroughAPIFailures(t *testing.T) {
	api := startFakeAPI(t)
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"review", "reject", "review/A-1/2026-11-16"}, 2, "--reason TEXT is required to reject"},
		{[]string{"review", "approve", "review/A-403/2026-11-16"}, 1,
			"review approve review/A-403/2026-11-16: 403 Forbidden: dana may not decide review/A-403/2026-11-16 (owner marco)"},
		{[]string{"review", "approve", "review/A-409/2026-11-16"}, 1,
			"review approve review/A-409/2026-11-16: 409 Conflict: review/A-409/2026-11-16 is already decided"},
		{[]string{"review", "show", "review/A-2/2026-11-16"}, 1, "404 Not Found: no such review"},
		{[]string{"review", "show", "A-1"}, 2, `"A-1" is not a review ID`},
	} {
		_, errOut, code := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d with %q", c.args, code, errOut, c.code, c.msg)
		}
	}
	for _, r := range api.taken() {
		if r.Method == http.MethodPost && r.Body["decision"] == "reject" {
			t.Errorf("a reject without --reason reached the API: %+v", r)
		}
	}

	t.Setenv("CHURNWATCH_TOKEN", "")
	_, errOut, code := runCLI(t, "review", "approve", "review/A-1/2026-11-16")
	if code != 2 || !strings.Contains(errOut, "set CHURNWATCH_TOKEN to a token from `starter users token NAME`") {
		t.Errorf("without a token: exit %d, stderr %q", code, errOut)
	}
	t.Setenv("CHURNWATCH_TOKEN", "someone-elses-token")
	_, errOut, code = runCLI(t, "reviews", "list")
	if code != 1 || !strings.Contains(errOut, "401 Unauthorized: a valid bearer token is required") {
		t.Errorf("with a bad token: exit %d, stderr %q", code, errOut)
	}
}

func TestReviewsListAndShowThroughAPI(t *testing.T) {
	api := startFakeAPI(t)
	out, errOut, code := runCLI(t, "reviews", "list", "--state", "drafting", "--owner", "dana", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var items []review.Item
	if err := json.Unmarshal([]byte(out), &items); err != nil || len(items) != 1 || items[0] != fakeItems[0] {
		t.Errorf("reviews list --json: %v\n%s", err, out)
	}

	out, errOut, code = runCLI(t, "review", "show", "review/A-1/2026-11-16", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var p review.Packet
	if err := json.Unmarshal([]byte(out), &p); err != nil || p.ReviewID != "review/A-1/2026-11-16" || p.Owner != "dana" {
		t.Errorf("review show --json: %v\n%s", err, out)
	}

	reqs := api.taken()
	if len(reqs) != 2 || reqs[0].Path != "/api/reviews" || reqs[0].Query != "owner=dana&state=drafting" ||
		reqs[1].Method != http.MethodGet || reqs[1].Path != "/api/reviews/A-1/2026-11-16" {
		t.Errorf("requests %+v", reqs)
	}
}

func TestReviewPathEscapesEachPart(t *testing.T) {
	got, err := reviewPath("review/ACME EU/sub/2026-11-16")
	if want := "/api/reviews/ACME%20EU%2Fsub/2026-11-16"; err != nil || got != want {
		t.Errorf("reviewPath = %q, %v; want %q", got, err, want)
	}
}

// TestReviewThroughTemporalSaysItIsForAdministrators checks the notice the
// Temporal path prints before it acts (the dial then fails: nothing listens).
func TestReviewThroughTemporalSaysItIsForAdministrators(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	t.Setenv("CHURNWATCH_SERVER_URL", "")
	t.Setenv("CHURNWATCH_TEMPORAL_ADDRESS", addr)
	_, errOut, code := runCLI(t, "review", "approve", "review/A-1/2026-11-16", "--as", "dana")
	if code != 1 || !strings.Contains(errOut, "acting through Temporal directly as an administrator: --as dana is taken on trust") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
