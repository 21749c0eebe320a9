package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/churnwatch/churnwatch/prompts"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/summary"
)

// newBrowser starts headless Chromium for one test and returns its context.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return ctx
}

func browse(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("%s: %v (at %s)\n%.1500s", what, err, loc, body)
	}
}

// text is the text of the element sel matches.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func browserSignIn(t *testing.T, ctx context.Context, base, name string) {
	t.Helper()
	browse(t, ctx, "sign in as "+name,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#login")),
		chromedp.SendKeys(chromedp.CSS("#username"), name),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Submit(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS("#count")),
	)
}

// TestBrowserTeamFlow drives the pages in a real headless Chromium against
// a real worker on the embedded server: sign in, the queue, approve with an
// edit, reject with a reason, a review that is not yours, a form without
// its CSRF token, logout, an expired session, and the leaders' dashboard
// agreeing with `starter summary`.
func TestBrowserTeamFlow(t *testing.T) {
	ctx := newBrowser(t)
	cfg := testConfig(t, t.TempDir())
	cfg.HTTP.SessionIdle = 20 * time.Second
	tm := addTeam(t, cfg)
	c := startWorker(t, cfg)
	res := scan(t, c, cfg, examplePath(t))
	byOwner := awaitingReviews(t, cfg, tm, res)
	base := "http://" + cfg.HTTP.Addr
	first, second := byOwner["dana"][0], byOwner["dana"][1]

	browserSignIn(t, ctx, base, "dana")
	queue := text(t, ctx, "#queue")
	p, _ := tm.st.Packet(context.Background(), first)
	if !strings.Contains(queue, p.AccountName) {
		t.Errorf("dana's queue lacks %s:\n%s", p.AccountName, queue)
	}

	// Approve with an edited outreach and a confirmed cause.
	edited := "Hi team, could we find 30 minutes this week to review the rollout?"
	browse(t, ctx, "approve with an edit",
		chromedp.Navigate(base+review.PagePath(first)),
		chromedp.WaitVisible(chromedp.CSS("#decision")),
		chromedp.SetValue(chromedp.CSS("#outreach_body"), edited),
		chromedp.SendKeys(chromedp.CSS("#cause"), "new VP froze the rollout"),
		chromedp.Click(chromedp.CSS("#approve")),
		chromedp.WaitVisible(chromedp.CSS("#decided")),
	)
	var approved string
	waitForWithin(t, time.Minute, "the approved outreach on the page", func() bool {
		err := chromedp.Do(ctx, chromedp.Navigate(base+review.PagePath(first)), chromedp.WaitVisible(chromedp.CSS("#decided")))
		if err != nil {
			return false
		}
		n, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#approved-outreach")).map(e => e.innerText)`))
		if len(n) == 0 {
			return false
		}
		approved = n[0]
		return true
	})
	by := text(t, ctx, "#decided-by")
	if !strings.Contains(approved, edited) || !strings.Contains(by, "dana") {
		t.Errorf("after approval the page shows %q by %q", approved, by)
	}

	// A form stripped of its CSRF token is refused and decides nothing.
	browse(t, ctx, "open the second review",
		chromedp.Navigate(base+review.PagePath(second)),
		chromedp.WaitVisible(chromedp.CSS("#decision")),
	)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("#decision input[name=csrf_token]").remove(); true`)); err != nil {
		t.Fatal(err)
	}
	browse(t, ctx, "submit without the CSRF token", chromedp.Click(chromedp.CSS("#approve")))
	var body string
	waitFor(t, "the refusal page", func() bool {
		body, _ = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		return strings.Contains(body, "security token")
	})
	if !strings.Contains(body, "security token") {
		t.Errorf("a form without its token: %s", body)
	}
	if p, _ := tm.st.Packet(context.Background(), second); p.Decision != nil {
		t.Errorf("a form without its token decided %s", second)
	}

	// Reject with a reason.
	browse(t, ctx, "reject",
		chromedp.Navigate(base+review.PagePath(second)),
		chromedp.WaitVisible(chromedp.CSS("#decision")),
		chromedp.SendKeys(chromedp.CSS("#reason"), "sponsor meets quarterly"),
		chromedp.Click(chromedp.CSS("#reject")),
		chromedp.WaitVisible(chromedp.CSS("#decided")),
	)
	decided := text(t, ctx, "#decided")
	if !strings.Contains(decided, "rejected") || !strings.Contains(decided, "sponsor meets quarterly") {
		t.Errorf("after rejection: %s", decided)
	}

	// Another CSM's review is refused.
	browse(t, ctx, "open marco's review",
		chromedp.Navigate(base+review.PagePath(byOwner["marco"][0])),
		chromedp.WaitVisible(chromedp.CSS("#problem")),
	)
	problem := text(t, ctx, "#problem")
	if !strings.Contains(problem, "may not") {
		t.Errorf("marco's review shown to dana: %s", problem)
	}
	// Logout ends the session.
	browse(t, ctx, "log out",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#logout")),
		chromedp.Submit(chromedp.CSS("#logout")),
		chromedp.WaitVisible(chromedp.CSS("#login")),
		chromedp.Navigate(base+review.PagePath(first)),
		chromedp.WaitVisible(chromedp.CSS("#login")),
	)

	// The leader's dashboard agrees with the summary; an idle session ends.
	browserSignIn(t, ctx, base, "lee")
	browse(t, ctx, "the dashboard",
		chromedp.Navigate(base+"/dashboard"),
		chromedp.WaitVisible(chromedp.CSS("#weeks")),
	)
	arr := text(t, ctx, "#dash-arr-at-risk")
	sum, err := summary.Build(context.Background(), tm.st, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := prompts.GroupThousands(sum.ARRAtRisk); arr != want {
		t.Errorf("dashboard ARR at risk %q, summary %q", arr, want)
	}
	time.Sleep(cfg.HTTP.SessionIdle + 2*time.Second)
	browse(t, ctx, "an expired session",
		chromedp.Navigate(base+"/dashboard"),
		chromedp.WaitVisible(chromedp.CSS("#login")),
	)
}
