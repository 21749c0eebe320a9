package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/review"
)

// chromium finds the browser for the Web UI test: CHURNWATCH_TEST_CHROMIUM,
// or chromium on the PATH (make test installs Debian's).
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHURNWATCH_TEST_CHROMIUM"); p != "" {
		return p
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("no chromium (make test installs it); set CHURNWATCH_TEST_CHROMIUM to run the Web UI test")
	}
	return p
}

// TestWebUIShowsTheReviews opens the Temporal Web UI the worker serves
// beside the embedded server in a real headless browser and checks that the
// reviews a scan started are listed as AccountReview workflows; then the
// worker's own review, packet and summary pages.
func TestWebUIShowsTheReviews(t *testing.T) {
	browser := chromium(t)
	cfg := testConfig(t, t.TempDir())
	cfg.Temporal.UIPort = freePort(t)
	c := startWorker(t, cfg)
	res := scan(t, c, cfg, examplePath(t))
	if len(res.Started) == 0 {
		t.Fatal("no review started")
	}

	url := fmt.Sprintf("http://127.0.0.1:%d/namespaces/%s/workflows", cfg.Temporal.UIPort, cfg.Temporal.Namespace)
	var dom string
	waitForWithin(t, 2*time.Minute, "the reviews in the Web UI", func() bool {
		dom = dumpDOM(t, browser, url)
		for _, s := range res.Started {
			if !strings.Contains(dom, review.ID(s.AccountID, res.AsOf)) {
				return false
			}
		}
		return true
	})
	if !strings.Contains(dom, review.ReviewWorkflow) {
		t.Errorf("the workflow list does not name %s", review.ReviewWorkflow)
	}

	// Churnwatch's own pages, on the worker's HTTP listener: the reviews,
	// one decision packet with its evidence and drafts, the summary.
	base := "http://" + cfg.HTTP.Addr
	waitForWithin(t, time.Minute, "the reviews on the review page", func() bool {
		dom = dumpDOM(t, browser, base+"/")
		for _, s := range res.Started {
			if !strings.Contains(dom, review.ID(s.AccountID, res.AsOf)) {
				return false
			}
		}
		return true
	})
	first := res.Started[0]
	var page string
	waitForWithin(t, time.Minute, "the drafted packet page", func() bool {
		page = dumpDOM(t, browser, base+"/review/"+first.AccountID+"/"+res.AsOf)
		return strings.Contains(page, `id="brief"`)
	})
	for _, want := range []string{first.AccountID, "Evidence", "Two-week save plan", "Nothing is sent to the customer until the owner approves it",
		"starter review approve " + review.ID(first.AccountID, res.AsOf)} {
		if !strings.Contains(page, want) {
			t.Errorf("the packet page lacks %q", want)
		}
	}
	if summary := dumpDOM(t, browser, base+"/summary"); !strings.Contains(summary, "Portfolio as of "+res.AsOf) || !strings.Contains(summary, `id="completeness"`) {
		t.Errorf("the summary page:\n%.2000s", summary)
	}
}

func dumpDOM(t *testing.T, browser, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The flags keep Chromium off the network it cannot reach here.
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=15000", "--window-size=1600,1000", "--dump-dom", url)
	out, err := cmd.Output()
	if err != nil {
		t.Logf("chromium: %v", err)
	}
	return string(out)
}
