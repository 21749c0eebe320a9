package fault

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestFault100kBook takes a 100,000-account book (and, for the latency
// figures, a 10,000-account one) through the scan, every review to its
// gate, the leadership summary, the packet audit and the pages, end to end
// through the binaries. By default the book is calm (a few hundred
// accounts at risk), so the book's size, its payloads and the summary,
// audit and pages at 100k are exercised without thousands of review
// workflows; -fault.full scans the simulator's ordinary book instead and
// measures the scan to every review drafted and waiting.
func TestFault100kBook(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	for _, n := range []int{10_000, 100_000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) { bigBook(t, n, !*full) })
	}
}

func bigBook(t *testing.T, accounts int, calm bool) {
	kind := "calm"
	if !calm {
		kind = "full"
	}
	row := track(t, fmt.Sprintf("a %d-account book (%s) through scan, summary, audit and pages (embedded Temporal, SQLite)", accounts, kind),
		"every flagged account has one review, drafted and waiting, one flagged and one drafted event; summary counts every tier as the model does; the audit lists every at-risk packet; the inbox, dashboard and summary pages answer 200")
	b := newBook(t, bookOptions(accounts, 100, calm))
	e := newEnv(t)
	if _, errOut, code := starter(t, e, "lee-password-123\n", "users", "add", "lee", "--role", "leader", "--password-stdin"); code != 0 {
		t.Fatalf("users add lee: exit %d: %s", code, errOut)
	}
	startWorker(t, e)
	st := openStore(t, e)

	start := time.Now()
	res := scan(t, e, []string{b.path})
	scanned := time.Since(start)
	if res.Accounts != accounts || res.StartedCount != len(b.flagged) {
		t.Fatalf("the scan: %d accounts, %d reviews started; want %d and %d", res.Accounts, res.StartedCount, accounts, len(b.flagged))
	}
	within := 5 * time.Minute
	if !calm {
		within = 2 * time.Hour
	}
	awaitGate(t, st, res.AsOf, b.flagged, within)
	gate := time.Since(start)

	// The leadership summary and the audit, as a leader runs them.
	start = time.Now()
	out, errOut, code := starter(t, e, "", "summary", "--format", "json")
	summaryTook := time.Since(start)
	if code != 0 {
		t.Fatalf("starter summary: exit %d: %s", code, errOut)
	}
	var sum struct {
		Week  string         `json:"week"`
		Tiers map[string]int `json:"tiers"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("starter summary --format json: %v", err)
	}
	for tier, n := range res.Tiers {
		if sum.Tiers[tier] != n {
			t.Errorf("the summary counts %d %s accounts, the scan %d", sum.Tiers[tier], tier, n)
		}
	}
	start = time.Now()
	out, errOut, code = starter(t, e, "", "audit", "packets", "--json")
	auditTook := time.Since(start)
	if code != 0 {
		t.Fatalf("starter audit packets: exit %d: %s", code, errOut)
	}
	var audit []struct {
		ReviewID string `json:"review_id"`
	}
	if err := json.Unmarshal([]byte(out), &audit); err != nil {
		t.Fatalf("starter audit packets --json: %v\n%.300s", err, out)
	}
	if len(audit) != len(b.flagged) {
		t.Errorf("the audit lists %d packets; %d accounts are at risk", len(audit), len(b.flagged))
	}

	pages := pageTimes(t, e, "lee", "lee-password-123", "/", "/dashboard", "/summary")
	row.figure = fmt.Sprintf("%d flagged; scan %s; every review drafted and waiting %s after the scan began; summary %s, audit %s; pages %s",
		len(b.flagged), scanned.Round(100*time.Millisecond), gate.Round(time.Second), summaryTook.Round(10*time.Millisecond), auditTook.Round(10*time.Millisecond), pages)
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// pageTimes signs in to the pages as user and fetches each path, failing
// unless it answers 200; it returns how long each took.
func pageTimes(t *testing.T, e *env, user, password string, paths ...string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 5 * time.Minute}
	base := "http://" + e.httpAddr
	resp, err := hc.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRE.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf_token on /login: %.300s", page)
	}
	resp, err = hc.PostForm(base+"/login", url.Values{"username": {user}, "password": {password}, "csrf_token": {string(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign in as %s: %s", user, resp.Status)
	}
	var took []string
	for _, p := range paths {
		start := time.Now()
		resp, err := hc.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != p {
			t.Errorf("GET %s: %s (at %s)", p, resp.Status, resp.Request.URL.Path)
		}
		took = append(took, fmt.Sprintf("%s %s (%d KB)", p, time.Since(start).Round(time.Millisecond), n>>10))
	}
	return strings.Join(took, ", ")
}
