package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"golang.org/x/crypto/bcrypt"

	"github.com/churnwatch/churnwatch/decision"
	"github.com/churnwatch/churnwatch/identity"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/store"
)

const password = "correct horse battery"

// fixture is a SQLite decision record with a team and one review awaiting
// approval, served by a Server. Decisions that pass every check would go
// to Temporal, which these tests do not run: the worker's tests decide
// against the embedded server. Everything refused before that is here.
type fixture struct {
	st  store.Store
	srv *httptest.Server
	s   *Server
}

// newFixture serves the fixture with cfg; each opt may set the Server's
// other fields before it serves.
func newFixture(t *testing.T, cfg Config, opts ...func(*Server)) *fixture {
	t.Helper()
	identity.PasswordCost = bcrypt.MinCost
	ctx := context.Background()
	st, err := store.Open(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	hash, _ := identity.HashPassword(password)
	for _, u := range []identity.User{
		{Name: "mia", Role: identity.Manager}, {Name: "dana", Role: identity.CSM, Manager: "mia"},
		{Name: "marco", Role: identity.CSM}, {Name: "lee", Role: identity.Leader},
	} {
		if err := st.AddUser(ctx, u, hash); err != nil {
			t.Fatal(err)
		}
	}
	a := risk.Assessment{
		AccountID: "A-1", AccountName: "上海云帆数据", Owner: "dana", AsOf: "2026-11-16", Score: 83, Tier: risk.Critical,
		ARR: 120000, RenewalDate: "2027-01-22", SuccessGoal: "Cut close time by 30%", GoalStatus: "at_risk", SLAHours: 48, Urgency: 9,
		Signals: []risk.Signal{{ID: "login_drop", Dimension: "usage", Points: 27, Text: "Logins fell 38% over 3 weeks (120/wk to 74/wk).",
			Evidence: risk.Evidence{Field: "logins", Weeks: []string{"2026-10-26", "2026-11-16"}, Values: []float64{120, 74}, Window: "last 4 weeks vs the 8 before"}}},
		Missing: []string{"nps"}, ModelVersion: "1.2", ConfigHash: "abc123",
	}
	if err := st.SaveScores(ctx, "batch-1", []risk.Assessment{a}); err != nil {
		t.Fatal(err)
	}
	p := review.Packet{
		ReviewID: review.ID("A-1", "2026-11-16"), AccountID: "A-1", AccountName: a.AccountName, Owner: "dana", Cycle: "2026-11-16",
		State: review.AwaitingApproval, Event: "critical at first scan <b>(score 83)</b>", Severity: risk.Critical, Assessment: a,
		Draft: &review.Draft{Brief: "Usage fell [login_drop].", SuspectedCause: "the new finance lead prefers a rival",
			SavePlan: []review.PlanStep{{Day: 1, Action: "Call the sponsor", Owner: "dana"}},
			Outreach: review.Email{Subject: "Your close-time goal", Body: "Hi Wei, ..."}, Drafter: "offline", PromptVersion: "2026-11.1"},
		Escalation: review.Escalation{Path: []string{"dana", "mia"}},
		CreatedAt:  time.Now().Add(-72 * time.Hour).UTC(), UpdatedAt: time.Now().UTC(),
	}
	if err := st.SavePacket(ctx, p); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := &Server{Store: st, Decisions: &decision.Service{Store: st, Leaders: []string{"lee"}, Logger: quiet}, Config: cfg, Logger: quiet}
	for _, opt := range opts {
		opt(s)
	}
	mux := http.NewServeMux()
	srv := httptest.NewUnstartedServer(nil)
	srv.Config.Handler = s.Handler(mux)
	srv.Start()
	t.Cleanup(srv.Close)
	if s.Config.ListenAddr == "" {
		s.Config.ListenAddr = srv.Listener.Addr().String()
	}
	return &fixture{st: st, srv: srv, s: s}
}

func defaultConfig() Config {
	return Config{SessionLifetime: time.Hour, SessionIdle: time.Hour, LoginAttemptsPerMinute: 100}
}

type browser struct {
	t    *testing.T
	hc   *http.Client
	base string
}

func (f *fixture) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t, &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, f.srv.URL}
}

func (b *browser) do(req *http.Request) (int, string, http.Header) {
	b.t.Helper()
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

func (b *browser) get(path string) (int, string, http.Header) {
	req, _ := http.NewRequest("GET", b.base+path, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) (int, string, http.Header) {
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	_, rest, ok := strings.Cut(page, `name="csrf_token" value="`)
	if !ok {
		t.Fatalf("no csrf_token:\n%.800s", page)
	}
	tok, _, _ := strings.Cut(rest, `"`)
	return tok
}

// signIn signs name in and returns the session's CSRF token.
func (b *browser) signIn(name string) string {
	b.t.Helper()
	_, page, _ := b.get("/login")
	code, body, _ := b.post("/login", url.Values{"csrf_token": {csrfOf(b.t, page)}, "username": {name}, "password": {password}})
	if code != http.StatusSeeOther {
		b.t.Fatalf("sign in as %s: %d\n%.500s", name, code, body)
	}
	_, page, _ = b.get("/")
	return csrfOf(b.t, page)
}

func TestPacketPageShowsTheDecisionBoxFirst(t *testing.T) {
	f := newFixture(t, defaultConfig())
	b := f.browser(t)
	b.signIn("dana")
	code, body, h := b.get("/review/A-1/2026-11-16")
	if code != http.StatusOK {
		t.Fatalf("packet page: %d\n%s", code, body)
	}
	for _, want := range []string{
		`id="decision"`, `name="outreach_body"`, "Hi Wei, ...", `name="decision" value="approve"`, `name="decision" value="reject"`,
		"Logins fell 38% over 3 weeks", "2026-10-26: 120; 2026-11-16: 74", "<polyline", "not confirmed",
		"Missing: escalation, decision, follow_up_date", "120,000", "上海云帆数据", "&lt;b&gt;(score 83)&lt;/b&gt;",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("packet page lacks %q", want)
		}
	}
	if strings.Index(body, `id="decision"`) > strings.Index(body, `id="evidence"`) {
		t.Errorf("the decision box is below the evidence")
	}
	if strings.Contains(body, "<b>(score 83)</b>") || strings.Contains(body, "<script") || strings.Contains(body, "style=") {
		t.Errorf("the page carries markup, script or inline style")
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	if code, _, _ := b.get("/review/A-9/2026-11-16"); code != http.StatusNotFound {
		t.Errorf("an unknown review: %d", code)
	}
	if code, _, _ := b.get("/summary"); code != http.StatusForbidden {
		t.Errorf("a CSM opening the summary: %d", code)
	}

	lead := f.browser(t)
	lead.signIn("lee")
	code, body, _ = lead.get("/summary")
	for _, want := range []string{"Portfolio as of 2026-11-16", `id="arr-at-risk">120,000<`, `id="completeness">0%<`} {
		if !strings.Contains(body, want) {
			t.Errorf("summary (%d) lacks %q", code, want)
		}
	}
}

func TestRefusalsChangeNothing(t *testing.T) {
	f := newFixture(t, defaultConfig())
	b := f.browser(t)
	if code, _, h := b.get("/review/A-1/2026-11-16"); code != http.StatusSeeOther || h.Get("Location") != "/login?next=%2Freview%2FA-1%2F2026-11-16" {
		t.Errorf("no session: %d %q", code, h.Get("Location"))
	}
	_, page, _ := b.get("/login")
	csrf := csrfOf(t, page)
	_, wrongPw, _ := b.post("/login", url.Values{"csrf_token": {csrf}, "username": {"dana"}, "password": {"not the password"}})
	code, noUser, _ := b.post("/login", url.Values{"csrf_token": {csrf}, "username": {"nobody"}, "password": {"not the password"}})
	if code != http.StatusUnauthorized || !strings.Contains(wrongPw, "do not match") || !strings.Contains(noUser, "do not match") {
		t.Errorf("bad sign-ins: %d", code)
	}

	csrf = b.signIn("marco")
	path := "/review/A-1/2026-11-16/decision"
	for name, c := range map[string]struct {
		form url.Values
		want int
	}{
		"no csrf":     {url.Values{"decision": {"approve"}}, http.StatusForbidden},
		"forged csrf": {url.Values{"decision": {"approve"}, "csrf_token": {"x" + csrf}}, http.StatusForbidden},
		"not theirs":  {url.Values{"decision": {"approve"}, "csrf_token": {csrf}}, http.StatusForbidden},
		"1 MB field":  {url.Values{"decision": {"approve"}, "csrf_token": {csrf}, "note": {strings.Repeat("a", 1<<20)}}, http.StatusRequestEntityTooLarge},
	} {
		if code, body, _ := b.post(path, c.form); code != c.want {
			t.Errorf("%s: %d, want %d\n%.300s", name, code, c.want, body)
		}
	}
	dana := f.browser(t)
	csrf = dana.signIn("dana")
	for name, c := range map[string]struct {
		form url.Values
		want int
	}{
		"reject without reason": {url.Values{"decision": {"reject"}, "csrf_token": {csrf}, "reason": {"  "}}, http.StatusUnprocessableEntity},
		"no decision":           {url.Values{"csrf_token": {csrf}}, http.StatusUnprocessableEntity},
		"unknown decision":      {url.Values{"decision": {"maybe"}, "csrf_token": {csrf}}, http.StatusUnprocessableEntity},
	} {
		if code, body, _ := dana.post(path, c.form); code != c.want {
			t.Errorf("%s: %d, want %d\n%.300s", name, code, c.want, body)
		}
	}
	p, _ := f.st.Packet(context.Background(), review.ID("A-1", "2026-11-16"))
	if p.Decision != nil || p.State != review.AwaitingApproval {
		t.Fatalf("a refused request changed the review: %+v", p)
	}
	events, _ := f.st.Events(context.Background(), store.EventFilter{Kinds: []review.EventKind{review.EventRefused}})
	if len(events) < 3 {
		t.Errorf("%d refusals in the measurement log, want at least 3", len(events))
	}

	// Logout ends the session; the old cookie opens nothing.
	if code, _, _ := dana.post("/logout", url.Values{"csrf_token": {csrf}}); code != http.StatusSeeOther {
		t.Errorf("logout: %d", code)
	}
	if code, _, _ := dana.get("/"); code != http.StatusSeeOther {
		t.Errorf("after logout: %d", code)
	}

	req, _ := http.NewRequest("GET", f.srv.URL+"/login", nil)
	req.Host = "rebound.example"
	if code, _, _ := b.do(req); code != http.StatusMisdirectedRequest {
		t.Errorf("a Host that is not allowed: %d", code)
	}
}

func TestAPIRefusesWithoutAValidToken(t *testing.T) {
	f := newFixture(t, defaultConfig())
	b := f.browser(t)
	plain, hash, _ := identity.NewToken()
	if err := f.st.AddToken(context.Background(), "marco", hash, time.Now()); err != nil {
		t.Fatal(err)
	}
	call := func(token, method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		code, out, h := b.do(req)
		if !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s answered %s", method, path, h.Get("Content-Type"))
		}
		return code, out
	}
	if code, out := call("", "GET", "/api/reviews", ""); code != http.StatusUnauthorized || !strings.Contains(out, `"error"`) {
		t.Errorf("no token: %d %s", code, out)
	}
	if code, _ := call("cwt_nope", "GET", "/api/reviews", ""); code != http.StatusUnauthorized {
		t.Errorf("unknown token: %d", code)
	}
	if code, out := call(plain, "GET", "/api/reviews", ""); code != http.StatusOK || strings.Contains(out, "A-1") {
		t.Errorf("marco's list: %d %s", code, out)
	}
	if code, _ := call(plain, "POST", "/api/reviews/A-1/2026-11-16/decision", `{"decision":"approve"}`); code != http.StatusForbidden {
		t.Errorf("marco deciding dana's review: %d", code)
	}
	if code, _ := call(plain, "POST", "/api/reviews/A-1/2026-11-16/decision", `{"decision":`+strings.Repeat(" ", 1<<20)+`"approve"}`); code != http.StatusRequestEntityTooLarge {
		t.Errorf("a 1 MB body: %d", code)
	}
	if err := f.st.SetUserDisabled(context.Background(), "marco", true); err != nil {
		t.Fatal(err)
	}
	if code, _ := call(plain, "GET", "/api/reviews", ""); code != http.StatusUnauthorized {
		t.Errorf("a disabled user's token: %d", code)
	}
}

func TestSignInIsRateLimited(t *testing.T) {
	cfg := defaultConfig()
	cfg.LoginAttemptsPerMinute = 3
	f := newFixture(t, cfg)
	b := f.browser(t)
	_, page, _ := b.get("/login")
	csrf := csrfOf(t, page)
	var codes []int
	for range 5 {
		code, _, _ := b.post("/login", url.Values{"csrf_token": {csrf}, "username": {"dana"}, "password": {"guess guess guess"}})
		codes = append(codes, code)
	}
	if fmt.Sprint(codes) != "[401 401 401 429 429]" {
		t.Errorf("attempts answered %v", codes)
	}
}

// TestInboxIsOrderedAndPaged fills the record with 120 open reviews of
// several owners and checks scope, order by urgency, paging and filters.
func TestInboxIsOrderedAndPaged(t *testing.T) {
	f := newFixture(t, defaultConfig())
	ctx := context.Background()
	owners := []string{"dana", "marco"}
	for i := range 120 {
		id := fmt.Sprintf("B-%03d", i)
		tier := risk.Elevated
		if i%10 == 0 {
			tier = risk.Critical
		}
		a := risk.Assessment{AccountID: id, AccountName: "Acct " + id, Tier: tier, Score: 50 + i%40, ARR: float64(10_000 * (i + 1)), Urgency: float64(i), SLAHours: 168}
		p := review.Packet{ReviewID: review.ID(id, "2026-11-16"), AccountID: id, AccountName: a.AccountName, Owner: owners[i%2], Cycle: "2026-11-16",
			State: review.AwaitingApproval, Severity: tier, Assessment: a, CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()}
		if err := f.st.SavePacket(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	lead := f.browser(t)
	lead.signIn("lee")
	_, body, _ := lead.get("/")
	if !strings.Contains(body, "121 review(s)") || !strings.Contains(body, "Page 1 of 3") {
		t.Errorf("leader's inbox header:\n%.2000s", body)
	}
	if rows := strings.Count(body, `<td class="state">`); rows != pageSize {
		t.Errorf("%d rows on a page, want %d", rows, pageSize)
	}
	if i, j := strings.Index(body, "B-119"), strings.Index(body, "B-118"); i < 0 || j < 0 || i > j {
		t.Errorf("the most urgent is not first")
	}
	if !strings.Contains(body, `id="overdue"`) {
		t.Errorf("no overdue badge although A-1 is past its 48 h SLA")
	}
	_, body, _ = lead.get("/?page=3")
	if rows := strings.Count(body, `<td class="state">`); rows != 21 {
		t.Errorf("last page: %d rows", rows)
	}
	_, body, _ = lead.get("/?tier=critical&segment=enterprise")
	if rows := strings.Count(body, `<td class="state">`); rows != 12 { // 10 critical B-x0 accounts of ARR ≥ 100k (i ≥ 9) + A-1
		t.Errorf("critical enterprise: %d rows", rows)
	}

	dana := f.browser(t)
	dana.signIn("dana")
	_, body, _ = dana.get("/")
	if strings.Contains(body, "B-119") || !strings.Contains(body, "B-118") || !strings.Contains(body, "Your queue") {
		t.Errorf("dana's queue holds others' reviews or misses hers")
	}
	if code, _, _ := dana.get("/?owner=marco"); code != http.StatusForbidden {
		t.Errorf("dana filtering on marco: %d", code)
	}
	mia := f.browser(t)
	mia.signIn("mia")
	if _, body, _ = mia.get("/?owner=dana"); !strings.Contains(body, "B-118") {
		t.Errorf("mia does not see her team's queue")
	}
	if code, _, _ := mia.get("/?owner=marco"); code != http.StatusForbidden {
		t.Errorf("mia filtering on another team: %d", code)
	}
}

// TestOutreachSentIsRecordedOnce: once outreach_sent is on the timeline
// (recorded by a person or by Churnwatch sending the email), the page no
// longer offers it, so the summary never counts one outreach twice.
func TestOutreachSentIsRecordedOnce(t *testing.T) {
	if got := progressLeft(nil); len(got) != 2 {
		t.Errorf("before any progress: %v", got)
	}
	got := progressLeft([]review.Event{{Kind: review.EventFlagged}, {Kind: review.EventOutreachSent, Actor: "churnwatch"}})
	if len(got) != 1 || got[0] != review.EventCustomerResponded {
		t.Errorf("after outreach_sent: %v", got)
	}
}

// TestDecisionWithTemporalDown: a decision whose review cannot be reached
// (Temporal down, no worker polling) answers 503 within the bound, says
// the same form may be sent again, and changes nothing.
func TestDecisionWithTemporalDown(t *testing.T) {
	down, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1", Logger: log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	decision.UpdateTimeout = 2 * time.Second
	defer func() { decision.UpdateTimeout = 30 * time.Second }()
	f := newFixture(t, defaultConfig(), func(s *Server) { s.Decisions.Temporal = down })
	b := f.browser(t)
	csrf := b.signIn("dana")
	code, body, _ := b.post("/review/A-1/2026-11-16/decision", url.Values{"decision": {"approve"}, "csrf_token": {csrf}})
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "try again") {
		t.Errorf("Temporal down: %d\n%.600s", code, body)
	}
	if p, _ := f.st.Packet(context.Background(), review.ID("A-1", "2026-11-16")); p.Decision != nil {
		t.Errorf("the review changed: %+v", p.Decision)
	}
}

// TestDecisionWithNoWorkerPolling: Temporal is up (the CLI's dev server)
// and the review's workflow exists, but no worker polls its queue: the
// update is accepted by nobody, so the decision answers 503 within the
// bound and changes nothing, rather than hold the CSM's request.
func TestDecisionWithNoWorkerPolling(t *testing.T) {
	cli := os.Getenv("CHURNWATCH_TEST_TEMPORAL_CLI")
	if cli == "" {
		t.Skip("set CHURNWATCH_TEST_TEMPORAL_CLI to the Temporal CLI (make test does)")
	}
	ctx := context.Background()
	quiet := log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{ExistingPath: cli,
		ClientOptions: &client.Options{Logger: quiet}, Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	c := srv.Client()
	reviewID := review.ID("A-1", "2026-11-16")
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: reviewID, TaskQueue: "nobody-polls"}, "AccountReview"); err != nil {
		t.Fatal(err)
	}
	decision.UpdateTimeout = 2 * time.Second
	defer func() { decision.UpdateTimeout = 30 * time.Second }()
	f := newFixture(t, defaultConfig(), func(s *Server) { s.Decisions.Temporal = c })
	b := f.browser(t)
	csrf := b.signIn("dana")
	code, body, _ := b.post("/review/A-1/2026-11-16/decision", url.Values{"decision": {"approve"}, "csrf_token": {csrf}})
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "did not answer") || !strings.Contains(body, "send the same request again") {
		t.Errorf("no worker polling: %d\n%.600s", code, body)
	}
	if p, _ := f.st.Packet(ctx, reviewID); p.Decision != nil {
		t.Errorf("the review changed: %+v", p.Decision)
	}
}
