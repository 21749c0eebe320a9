package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/identity"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/workflows"
)

// team is the sample book's people: two CSMs, dana's manager and a leader.
type team struct {
	st     store.Store
	tokens map[string]string
}

const testPassword = "correct horse battery"

func addTeam(t testing.TB, cfg config.Config) *team {
	t.Helper()
	identity.PasswordCost = bcrypt.MinCost
	st, err := store.Open(context.Background(), cfg.Store.DSN, cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tm := &team{st: st, tokens: map[string]string{}}
	hash, err := identity.HashPassword(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []identity.User{
		{Name: "mia", Role: identity.Manager},
		{Name: "dana", Role: identity.CSM, Manager: "mia"},
		{Name: "marco", Role: identity.CSM},
		{Name: "priya", Role: identity.CSM},
		{Name: "li.wei", Role: identity.CSM},
		{Name: "lee", Role: identity.Leader},
	} {
		if err := st.AddUser(context.Background(), u, hash); err != nil {
			t.Fatal(err)
		}
		plain, th, err := identity.NewToken()
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AddToken(context.Background(), u.Name, th, time.Now()); err != nil {
			t.Fatal(err)
		}
		tm.tokens[u.Name] = plain
	}
	return tm
}

// api calls the worker's API as the token's user and decodes the answer.
func api(t testing.TB, cfg config.Config, token, method, path string, body any, header ...string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+cfg.HTTP.Addr+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// awaitingReviews scans the sample book and waits until every started
// review has its drafts; it returns the reviews by owner.
func awaitingReviews(t testing.TB, cfg config.Config, tm *team, res workflows.ScanResult) map[string][]string {
	t.Helper()
	byOwner := map[string][]string{}
	waitForWithin(t, 2*time.Minute, "every review at the gate", func() bool {
		byOwner = map[string][]string{}
		for _, c := range res.Started {
			p, err := tm.st.Packet(context.Background(), review.ID(c.AccountID, res.AsOf))
			if err != nil || p.State != review.AwaitingApproval {
				return false
			}
			byOwner[p.Owner] = append(byOwner[p.Owner], p.ReviewID)
		}
		return true
	})
	return byOwner
}

func apiPath(reviewID string) string {
	return "/api/reviews" + strings.TrimPrefix(review.PagePath(reviewID), "/review")
}

// TestTeamDecisionsThroughTheAPI decides reviews through the token API of
// a real worker on the embedded server, and checks every refusal of the
// contract: no token, a disabled user's token, another CSM's review, an
// empty reason, a second decision, a Host that is not allowed.
func TestTeamDecisionsThroughTheAPI(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	tm := addTeam(t, cfg)
	c := startWorker(t, cfg)
	res := scan(t, c, cfg, examplePath(t))
	byOwner := awaitingReviews(t, cfg, tm, res)
	if len(byOwner["dana"]) < 2 {
		t.Fatalf("want two reviews of dana's, got %v", byOwner)
	}
	first, second := byOwner["dana"][0], byOwner["dana"][1]

	if code, body := api(t, cfg, "", "GET", "/api/reviews", nil); code != http.StatusUnauthorized || !strings.Contains(string(body), `"error"`) {
		t.Errorf("no token: %d %s", code, body)
	}
	code, body := api(t, cfg, tm.tokens["marco"], "POST", apiPath(first)+"/decision", map[string]any{"decision": "approve"})
	if code != http.StatusForbidden {
		t.Errorf("marco deciding dana's review: %d %s", code, body)
	}
	if code, body := api(t, cfg, tm.tokens["dana"], "POST", apiPath(first)+"/decision", map[string]any{"decision": "reject", "reason": "  "}); code != http.StatusUnprocessableEntity {
		t.Errorf("reject without a reason: %d %s", code, body)
	}

	// dana approves with an edit, confirming a cause; a retry with the same
	// key gets the same answer, a second decision a conflict.
	edit := map[string]any{"decision": "approve", "outreach": map[string]string{"subject": "Checking in", "body": "Hi, can we talk this week?"}, "cause": "new VP froze the rollout"}
	code, body = api(t, cfg, tm.tokens["dana"], "POST", apiPath(first)+"/decision", edit, "Idempotency-Key", "k-1")
	if code != http.StatusOK {
		t.Fatalf("dana approving: %d %s", code, body)
	}
	var p review.Packet
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if d := p.Decision; d == nil || d.Actor != "dana" || d.Kind != review.EditAndApprove || d.EditedOutreach.Body != "Hi, can we talk this week?" || d.ConfirmedCause != "new VP froze the rollout" {
		t.Errorf("the recorded decision: %+v", p.Decision)
	}
	if code, body := api(t, cfg, tm.tokens["dana"], "POST", apiPath(first)+"/decision", edit, "Idempotency-Key", "k-1"); code != http.StatusOK {
		t.Errorf("the same decision retried: %d %s", code, body)
	}
	if code, body := api(t, cfg, tm.tokens["lee"], "POST", apiPath(first)+"/decision", map[string]any{"decision": "reject", "reason": "no"}); code != http.StatusConflict {
		t.Errorf("a second decision: %d %s", code, body)
	}

	// dana's manager may decide her reviews, and the packet says so.
	code, body = api(t, cfg, tm.tokens["mia"], "POST", apiPath(second)+"/decision", map[string]any{"decision": "reject", "reason": "sponsor meets quarterly"})
	if code != http.StatusOK {
		t.Fatalf("mia rejecting dana's review: %d %s", code, body)
	}
	if err := json.Unmarshal(body, &p); err != nil || p.Decision.Actor != "mia" || p.Decision.Authority != "manager" || p.State != review.Rejected {
		t.Errorf("mia's rejection: %+v (%v)", p.Decision, err)
	}

	if *recordHistories {
		// The team path: an edit approved by the owner through the decision
		// service (with its authority), a rejection by her manager.
		waitFor(t, "the approved review's action", func() bool {
			p, err := tm.st.Packet(context.Background(), first)
			return err == nil && p.State == review.ActionAssigned
		})
		writeHistory(t, c, first, "../workflows/testdata/review_team_approved.json")
		writeHistory(t, c, second, "../workflows/testdata/review_team_rejected.json")
	}

	if err := tm.st.SetUserDisabled(context.Background(), "priya", true); err != nil {
		t.Fatal(err)
	}
	if code, body := api(t, cfg, tm.tokens["priya"], "GET", "/api/reviews", nil); code != http.StatusUnauthorized {
		t.Errorf("a disabled user's token: %d %s", code, body)
	}

	// marco sees his own reviews only; the leader sees all of them.
	var items []map[string]any
	_, body = api(t, cfg, tm.tokens["marco"], "GET", "/api/reviews", nil)
	if err := json.Unmarshal(body, &items); err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it["owner"] != "marco" {
			t.Errorf("marco's list holds %v", it)
		}
	}
	_, body = api(t, cfg, tm.tokens["lee"], "GET", "/api/reviews", nil)
	if err := json.Unmarshal(body, &items); err != nil || len(items) != len(res.Started) {
		t.Errorf("the leader's list: %d items, want %d (%v)", len(items), len(res.Started), err)
	}

	req, _ := http.NewRequest("GET", "http://"+cfg.HTTP.Addr+"/login", nil)
	req.Host = "attacker.example"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("a Host that is not allowed: %s", resp.Status)
	}
}

// browserless is a cookie-keeping HTTP client that does not follow
// redirects, for the form refusals a browser would never send.
func browserless(t testing.TB) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// csrfFrom reads the hidden csrf_token of a page.
func csrfFrom(t testing.TB, page string) string {
	t.Helper()
	_, rest, ok := strings.Cut(page, `name="csrf_token" value="`)
	if !ok {
		t.Fatalf("no csrf_token in the page:\n%.1500s", page)
	}
	tok, _, _ := strings.Cut(rest, `"`)
	return tok
}

func get(t testing.TB, hc *http.Client, u string) (int, string, http.Header) {
	t.Helper()
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func post(t testing.TB, hc *http.Client, u string, form url.Values) (int, string, http.Header) {
	t.Helper()
	resp, err := hc.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// signIn signs name in on hc and returns the session's CSRF token.
func signIn(t testing.TB, hc *http.Client, base, name string) string {
	t.Helper()
	_, page, _ := get(t, hc, base+"/login")
	code, body, h := post(t, hc, base+"/login", url.Values{"csrf_token": {csrfFrom(t, page)}, "username": {name}, "password": {testPassword}})
	if code != http.StatusSeeOther {
		t.Fatalf("sign in as %s: %d %s", name, code, body)
	}
	_ = h
	_, page, _ = get(t, hc, base+"/")
	return csrfFrom(t, page)
}

// TestTeamPagesRefuse checks the page refusals of the contract over plain
// HTTP against a real worker: no session, a bad password, a missing or
// forged CSRF token, a 1 MB form field, another CSM's review.
func TestTeamPagesRefuse(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	tm := addTeam(t, cfg)
	c := startWorker(t, cfg)
	res := scan(t, c, cfg, examplePath(t))
	byOwner := awaitingReviews(t, cfg, tm, res)
	base := "http://" + cfg.HTTP.Addr
	target := byOwner["dana"][0]
	decisionURL := base + review.PagePath(target) + "/decision"

	hc := browserless(t)
	if code, _, h := get(t, hc, base+review.PagePath(target)); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login?next=") {
		t.Errorf("a page without a session: %d %s", code, h.Get("Location"))
	}
	_, page, _ := get(t, hc, base+"/login")
	if code, body, _ := post(t, hc, base+"/login", url.Values{"csrf_token": {csrfFrom(t, page)}, "username": {"dana"}, "password": {"wrong password!"}}); code != http.StatusUnauthorized || strings.Contains(body, "password is wrong") {
		t.Errorf("a bad password: %d", code)
	}
	if code, _, _ := post(t, hc, base+"/login", url.Values{"username": {"dana"}, "password": {testPassword}}); code != http.StatusForbidden {
		t.Errorf("sign-in without a CSRF token: %d", code)
	}

	csrf := signIn(t, hc, base, "dana")
	for name, form := range map[string]url.Values{
		"no token":     {"decision": {"approve"}},
		"forged token": {"decision": {"approve"}, "csrf_token": {"forged"}},
	} {
		if code, _, _ := post(t, hc, decisionURL, form); code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, code)
		}
	}
	big := url.Values{"decision": {"reject"}, "csrf_token": {csrf}, "reason": {strings.Repeat("x", 1<<20)}}
	if code, _, _ := post(t, hc, decisionURL, big); code != http.StatusRequestEntityTooLarge {
		t.Errorf("a 1 MB field: %d", code)
	}
	if code, _, _ := post(t, hc, decisionURL, url.Values{"decision": {"reject"}, "csrf_token": {csrf}}); code != http.StatusUnprocessableEntity {
		t.Errorf("reject without a reason: %d", code)
	}
	if p, _ := tm.st.Packet(context.Background(), target); p.Decision != nil {
		t.Fatalf("a refused form decided the review: %+v", p.Decision)
	}

	other := browserless(t)
	otherCSRF := signIn(t, other, base, "marco")
	if code, _, _ := get(t, other, base+review.PagePath(target)); code != http.StatusForbidden {
		t.Errorf("marco opening dana's review: %d", code)
	}
	if code, _, _ := post(t, other, decisionURL, url.Values{"decision": {"approve"}, "csrf_token": {otherCSRF}}); code != http.StatusForbidden {
		t.Errorf("marco deciding dana's review: %d", code)
	}

	// The refusals are in the measurement log.
	events, err := tm.st.Events(context.Background(), store.EventFilter{Kinds: []review.EventKind{review.EventRefused, review.EventSignInRefused, review.EventSignedIn}})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[review.EventKind]int{}
	for _, e := range events {
		kinds[e.Kind]++
	}
	if kinds[review.EventRefused] < 4 || kinds[review.EventSignInRefused] < 1 || kinds[review.EventSignedIn] < 2 {
		t.Errorf("access events: %v", kinds)
	}
	_ = fmt.Sprint
}
