package web

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/churnwatch/churnwatch/decision"
	"github.com/churnwatch/churnwatch/identity"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/store"
)

// The benchmarks here produce the latency figures the closing note reports:
//
//	go test -run '^$' -bench 'Inbox|Dashboard|SignIn' -benchtime 1x ./web
//
// Each iteration of the page benchmarks makes requestsPerIteration requests
// one after another, as one person clicking through, and reports the
// median and 95th percentile of their latencies (request to last byte).
// newFixture and browser take a *testing.T, which a benchmark does not
// have, so the server and client are built here the same way for a
// testing.TB.

var dashboardRequests = flag.Int("bench.n", 20, "GET /dashboard requests per iteration of BenchmarkDashboard100k (20: one takes about a second)")

// requestsPerIteration is how many inbox pages one iteration opens.
const requestsPerIteration = 100

// benchServer serves st as newFixture does, with the sign-in limit out of
// the way (a benchmark signs in more often than a person).
func benchServer(tb testing.TB, st store.Store, leaders ...string) string {
	tb.Helper()
	cfg := defaultConfig()
	cfg.LoginAttemptsPerMinute = 1 << 20
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := &Server{Store: st, Decisions: &decision.Service{Store: st, Leaders: leaders, Logger: quiet}, Config: cfg, Logger: quiet}
	srv := httptest.NewUnstartedServer(nil)
	srv.Config.Handler = s.Handler(http.NewServeMux())
	srv.Start()
	tb.Cleanup(srv.Close)
	s.Config.ListenAddr = srv.Listener.Addr().String()
	return srv.URL
}

// benchClient is browser for a testing.TB: it keeps cookies and does not
// follow redirects.
type benchClient struct {
	tb   testing.TB
	hc   *http.Client
	base string
}

func newBenchClient(tb testing.TB, base string) *benchClient {
	jar, _ := cookiejar.New(nil)
	return &benchClient{tb, &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, base}
}

func (c *benchClient) get(path string) (int, string) {
	c.tb.Helper()
	resp, err := c.hc.Get(c.base + path)
	if err != nil {
		c.tb.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.tb.Fatalf("GET %s: read the answer: %v", path, err)
	}
	return resp.StatusCode, string(body)
}

// loginForm reads a fresh login form's CSRF token: the part of a sign-in
// that is not the sign-in itself.
func (c *benchClient) loginForm() url.Values {
	c.tb.Helper()
	_, page := c.get("/login")
	_, rest, ok := strings.Cut(page, `name="csrf_token" value="`)
	if !ok {
		c.tb.Fatalf("no csrf_token on the login page:\n%.800s", page)
	}
	tok, _, _ := strings.Cut(rest, `"`)
	return url.Values{"csrf_token": {tok}}
}

// signIn posts the login form as name and checks it was accepted.
func (c *benchClient) signIn(form url.Values, name string) {
	c.tb.Helper()
	form.Set("username", name)
	form.Set("password", password)
	resp, err := c.hc.PostForm(c.base+"/login", form)
	if err != nil {
		c.tb.Fatalf("sign in as %s: %v", name, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		c.tb.Fatalf("sign in as %s: %d\n%.500s", name, resp.StatusCode, body)
	}
}

// addBenchUsers adds users with the test password at the cost the hash
// is made with; users already in a cached record are kept.
func addBenchUsers(tb testing.TB, st store.Store, users ...identity.User) {
	tb.Helper()
	hash, err := identity.HashPassword(password)
	if err != nil {
		tb.Fatal(err)
	}
	for _, u := range users {
		if err := st.AddUser(context.Background(), u, hash); err != nil && !errors.Is(err, store.ErrExists) {
			tb.Fatalf("add user %s: %v", u.Name, err)
		}
	}
}

// percentile is the nearest-rank p-th percentile of sorted durations, in ms.
func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	i = min(max(i, 0), len(sorted)-1)
	return float64(sorted[i]) / float64(time.Millisecond)
}

// reportLatencies reports the p50 and p95 of the requests' latencies.
func reportLatencies(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(percentile(lat, 50), "p50-ms")
	b.ReportMetric(percentile(lat, 95), "p95-ms")
	b.ReportMetric(float64(lat[len(lat)-1])/float64(time.Millisecond), "max-ms")
}

// inboxOthers is how many open reviews the other CSMs own beside the 500
// of the CSM being measured: the query has to pick hers out of them.
const inboxOthers = 3000

// BenchmarkInbox500 measures GET / for a CSM with 500 open reviews (10
// pages) among 3,500, and for a leader who sees all 3,500 (70 pages): the
// first page, and pages spread over the whole queue (a deeper OFFSET).
func BenchmarkInbox500(b *testing.B) {
	identity.PasswordCost = bcrypt.MinCost
	ctx := context.Background()
	st, err := store.Open(ctx, "", b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	addBenchUsers(b, st, identity.User{Name: "mia", Role: identity.Manager}, identity.User{Name: "dana", Role: identity.CSM, Manager: "mia"},
		identity.User{Name: "lee", Role: identity.Leader})
	start := time.Now()
	if err := fillInbox(ctx, st, 500, inboxOthers); err != nil {
		b.Fatal(err)
	}
	b.Logf("filled 500 + %d open reviews in %s", inboxOthers, time.Since(start).Round(time.Millisecond))
	base := benchServer(b, st)

	for _, c := range []struct {
		name  string
		user  string
		total int
	}{
		{"csm", "dana", 500},
		{"leader", "lee", 500 + inboxOthers},
	} {
		last := (c.total + pageSize - 1) / pageSize
		for _, pages := range []string{"page1", "pages"} {
			b.Run(c.name+"/"+pages, func(b *testing.B) {
				client := newBenchClient(b, base)
				client.signIn(client.loginForm(), c.user)
				lat := make([]time.Duration, 0, b.N*requestsPerIteration)
				b.ResetTimer()
				for range b.N {
					for i := range requestsPerIteration {
						page := 1
						if pages == "pages" {
							page = 1 + i%last
						}
						t0 := time.Now()
						code, body := client.get(fmt.Sprintf("/?page=%d", page))
						lat = append(lat, time.Since(t0))
						want := min(pageSize, c.total-(page-1)*pageSize)
						if rows := strings.Count(body, `<td class="state">`); code != http.StatusOK || rows != want ||
							!strings.Contains(body, fmt.Sprintf("%d review(s)", c.total)) {
							b.Fatalf("page %d as %s: %d, %d rows (want %d)\n%.1500s", page, c.user, code, rows, want, body)
						}
					}
				}
				b.StopTimer()
				reportLatencies(b, lat)
			})
		}
	}
}

// fillInbox stores mine open reviews of dana's and others of four other
// CSMs, with spread urgency, tiers, ARR and due dates (some overdue, so
// the header's badge counts something).
func fillInbox(ctx context.Context, st store.Store, mine, others int) error {
	now := time.Now().UTC()
	for i := range mine + others {
		owner := "dana"
		if i >= mine {
			owner = fmt.Sprintf("csm%d", i%4)
		}
		id := fmt.Sprintf("B-%05d", i)
		tier, sla := risk.Elevated, 168
		if i%7 == 0 {
			tier, sla = risk.Critical, 48
		}
		state := review.AwaitingApproval
		if i%11 == 0 {
			state = review.Drafting
		}
		created := now.Add(-time.Duration(i%240) * time.Hour)
		a := risk.Assessment{AccountID: id, AccountName: "Account " + id, Owner: owner, AsOf: "2026-11-16", Tier: tier, Score: 50 + i%50,
			ARR: float64(5_000 + (i%97)*2_500), RenewalDate: "2027-03-01", Urgency: float64((i * 7919) % 10_000), SLAHours: sla}
		p := review.Packet{ReviewID: review.ID(id, "2026-11-16"), AccountID: id, AccountName: a.AccountName, Owner: owner, Cycle: "2026-11-16",
			State: state, Severity: tier, Assessment: a, CreatedAt: created, UpdatedAt: created}
		if err := st.SavePacket(ctx, p); err != nil {
			return fmt.Errorf("save review %d: %w", i, err)
		}
	}
	return nil
}

// The dashboard's record: a 100,000-account book scored for the
// dashboard's default 12 weeks, with about 3,000 reviews in every state.
const (
	dashAccounts = 100_000
	dashWeeks    = 12
	dashReviews  = 3_000
	dashOwners   = 40
)

// BenchmarkDashboard100k measures GET /dashboard as a leader over the whole
// 100,000-account book. Filling the record takes minutes, so the SQLite
// file is kept between runs in $CHURNWATCH_BENCH_CACHE, else the system's
// temporary directory (churnwatch-web-dashboard-100000x12); delete it to
// start over. -bench.n sets the requests per iteration.
func BenchmarkDashboard100k(b *testing.B) {
	identity.PasswordCost = bcrypt.MinCost
	ctx := context.Background()
	cache := os.Getenv("CHURNWATCH_BENCH_CACHE")
	if cache == "" {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, fmt.Sprintf("churnwatch-web-dashboard-%dx%d", dashAccounts, dashWeeks))
	marker := filepath.Join(dir, "complete")
	if _, err := os.Stat(marker); err != nil {
		// A fill cut short is started over rather than trusted.
		if err := os.RemoveAll(dir); err != nil {
			b.Fatal(err)
		}
	}
	st, err := store.Open(ctx, "", dir)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := os.Stat(marker); err != nil {
		start := time.Now()
		n, err := fillDashboard(ctx, st)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(marker, nil, 0o644); err != nil {
			b.Fatal(err)
		}
		b.Logf("filled %d accounts x %d weeks and %d reviews in %s (kept in %s)", dashAccounts, dashWeeks, n, time.Since(start).Round(time.Second), dir)
	}
	addBenchUsers(b, st, identity.User{Name: "lee", Role: identity.Leader})
	client := newBenchClient(b, benchServer(b, st))
	client.signIn(client.loginForm(), "lee")

	lat := make([]time.Duration, 0, b.N**dashboardRequests)
	b.ResetTimer()
	for range b.N {
		for range *dashboardRequests {
			t0 := time.Now()
			code, body := client.get("/dashboard")
			lat = append(lat, time.Since(t0))
			if code != http.StatusOK || !strings.Contains(body, "<svg") || !strings.Contains(body, `id="owners"`) {
				b.Fatalf("GET /dashboard: %d\n%.1500s", code, body)
			}
		}
	}
	b.StopTimer()
	reportLatencies(b, lat)
}

// dashWeekList is the 12 Mondays scored, oldest first.
func dashWeekList() []string {
	first := time.Date(2025, 11, 24, 0, 0, 0, 0, time.UTC)
	weeks := make([]string, dashWeeks)
	for i := range weeks {
		weeks[i] = first.AddDate(0, 0, 7*i).Format(time.DateOnly)
	}
	return weeks
}

// dashTier spreads tiers like a real book (as summary's benchmarks do):
// about one account in ten at risk, the set drifting every four weeks.
func dashTier(account, week int) risk.Tier {
	switch (uint32(account)*2654435761 + uint32(week/4)*40503) % 100 {
	case 0, 1, 2:
		return risk.Critical
	case 3, 4, 5, 6, 7, 8, 9:
		return risk.Elevated
	case 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24:
		return risk.Watch
	case 25, 26, 27, 28, 29:
		return risk.InsufficientEvidence
	}
	return risk.Healthy
}

// fillDashboard stores a score per account per week (5,000 assessments a
// SaveScores call) and about dashReviews reviews spread over the weeks, each
// on an account at risk that week: a tenth undecided, a tenth rejected, the
// rest approved after 0 to 25 days, three in four of those with an outcome.
func fillDashboard(ctx context.Context, st store.Store) (int, error) {
	const chunk = 5_000
	weeks := dashWeekList()
	for wi, week := range weeks {
		for start := 0; start < dashAccounts; start += chunk {
			as := make([]risk.Assessment, 0, chunk)
			for i := start; i < min(start+chunk, dashAccounts); i++ {
				id := fmt.Sprintf("A-%06d", i)
				a := risk.Assessment{AccountID: id, AccountName: "Account " + id, Owner: fmt.Sprintf("csm%02d", i%dashOwners),
					AsOf: week, Tier: dashTier(i, wi), Score: 20, ARR: float64(10_000 + (i%97)*1_000),
					RenewalDate: "2027-03-01", ModelVersion: "v1", ConfigHash: "h1", ScoredAt: time.Now()}
				if a.Tier.AtRisk() {
					a.Score = 70
					a.Signals = []risk.Signal{{ID: "login_drop", Dimension: "usage", Points: 12, Text: "Logins fell 38% over 3 weeks (120/wk to 74/wk)",
						Evidence: risk.Evidence{Field: "logins", Weeks: []string{weeks[max(0, wi-3)], week}, Values: []float64{120, 74}}}}
				}
				as = append(as, a)
			}
			if err := st.SaveScores(ctx, "bench-"+week, as); err != nil {
				return 0, fmt.Errorf("save scores of %s from %d: %w", week, start, err)
			}
		}
	}
	perWeek := dashReviews / len(weeks)
	stride := max(1, dashAccounts/(perWeek*12)) // about a tenth of the accounts are at risk
	n := 0
	for wi, week := range weeks {
		monday, _ := time.Parse(time.DateOnly, week)
		opened := 0
		for i := wi; i < dashAccounts && opened < perWeek; i += stride {
			tier := dashTier(i, wi)
			if !tier.AtRisk() {
				continue
			}
			opened++
			n++
			p, events := dashReview(i, n, week, monday, tier)
			if err := st.SavePacket(ctx, p); err != nil {
				return n, fmt.Errorf("save review %s: %w", p.ReviewID, err)
			}
			for _, e := range events {
				if _, err := st.AppendEvent(ctx, e); err != nil {
					return n, fmt.Errorf("append event %s: %w", e.Key, err)
				}
			}
		}
	}
	return n, nil
}

// dashReview is account i's review number n, opened in week.
func dashReview(i, n int, week string, monday time.Time, tier risk.Tier) (review.Packet, []review.Event) {
	id := fmt.Sprintf("A-%06d", i)
	rid := review.ID(id, week)
	owner := fmt.Sprintf("csm%02d", i%dashOwners)
	created := monday.Add(time.Duration(9+n%48) * time.Hour)
	plan := []review.PlanStep{{Day: 0, Action: "Call the sponsor", Owner: owner}}
	p := review.Packet{ReviewID: rid, AccountID: id, AccountName: "Account " + id, Owner: owner, Cycle: week,
		State: review.AwaitingApproval, Event: "crossed into " + string(tier), Severity: tier,
		Assessment: risk.Assessment{AccountID: id, AccountName: "Account " + id, Owner: owner, AsOf: week, Tier: tier, Score: 70,
			ARR: float64(10_000 + (i%97)*1_000), SLAHours: 168},
		Draft: &review.Draft{SavePlan: plan}, Escalation: review.Escalation{Path: []string{"owner", "manager"}},
		CreatedAt: created, UpdatedAt: created}
	ev := func(kind review.EventKind, at time.Time, detail string) review.Event {
		return review.Event{Key: review.EventKey(rid, "", kind, 0), ReviewID: rid, AccountID: id, Kind: kind, Actor: owner, At: at, Detail: detail}
	}
	events := []review.Event{ev(review.EventFlagged, created, p.Event)}
	decided := created.Add(time.Duration((n*7)%26)*24*time.Hour + time.Duration(n%10)*time.Hour)
	switch n % 10 {
	case 0: // awaiting a decision
		return p, events
	case 1:
		p.State = review.Rejected
		p.Decision = &review.Decision{Kind: review.Reject, Actor: owner, Reason: "seasonal dip", At: decided}
		return p, append(events, ev(review.EventReviewed, decided, "reject"), ev(review.EventRiskRejected, decided, "seasonal dip"))
	}
	p.State, p.FollowUpDate = review.ActionAssigned, decided.AddDate(0, 0, 14).Format(time.DateOnly)
	p.Decision = &review.Decision{Kind: review.Approve, Actor: owner, At: decided}
	p.Action = &review.Action{Owner: owner, Plan: plan}
	events = append(events, ev(review.EventReviewed, decided, "approve"), ev(review.EventActionAssigned, decided, ""))
	if kind := []review.OutcomeKind{review.Saved, review.Churned, review.StillAtRisk, ""}[n%4]; kind != "" {
		at := decided.AddDate(0, 0, 14)
		p.State, p.Outcome = review.Closed, &review.Outcome{Kind: kind, Actor: owner, At: at}
		events = append(events, ev(review.EventKind(kind), at, ""))
	}
	return p, events
}

// BenchmarkSignIn measures one password sign-in (POST /login to its 303,
// the session stored) at the production bcrypt cost, which the tests'
// fixture lowers. Fetching the login form for its CSRF token is not timed.
// bcrypt-ms is the password check alone, for how much of it is bcrypt.
func BenchmarkSignIn(b *testing.B) {
	const productionCost = 11
	saved := identity.PasswordCost
	identity.PasswordCost = productionCost
	defer func() { identity.PasswordCost = saved }()
	ctx := context.Background()
	st, err := store.Open(ctx, "", b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	addBenchUsers(b, st, identity.User{Name: "dana", Role: identity.CSM})
	hash, err := st.PasswordHash(ctx, "dana")
	if err != nil {
		b.Fatal(err)
	}
	if cost, err := bcrypt.Cost([]byte(hash)); err != nil || cost != productionCost {
		b.Fatalf("the stored hash has cost %d (%v), want %d", cost, err, productionCost)
	}
	base := benchServer(b, st)

	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		c := newBenchClient(b, base)
		form := c.loginForm()
		b.StartTimer()
		c.signIn(form, "dana")
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(time.Millisecond), "ms/op")

	const checks = 5
	t0 := time.Now()
	for range checks {
		if !identity.CheckPassword(hash, password) {
			b.Fatal("the password does not match its hash")
		}
	}
	b.ReportMetric(float64(time.Since(t0))/checks/float64(time.Millisecond), "bcrypt-ms")
}
