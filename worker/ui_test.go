package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/workflows"
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
// reviews a scan started are listed as AccountReview workflows; then that
// the worker's own pages ask for a sign-in.
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
	if !strings.Contains(dom, workflows.ReviewWorkflow) {
		t.Errorf("the workflow list does not name %s", workflows.ReviewWorkflow)
	}

	// Churnwatch's own pages need a sign-in: a browser without a session
	// lands on the sign-in form (TestBrowserTeamFlow goes on from there).
	if dom := dumpDOM(t, browser, "http://"+cfg.HTTP.Addr+"/"); !strings.Contains(dom, `id="login"`) {
		t.Errorf("the inbox without a session:\n%.2000s", dom)
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

// TestWebUIIsReadOnly checks that the Web UI beside the embedded server
// listens on loopback only and, unless temporal.ui_writable, both reports
// its write actions disabled and refuses them: an Update sent from it could
// decide a review as anyone.
func TestWebUIIsReadOnly(t *testing.T) {
	for _, writable := range []bool{false, true} {
		t.Run(fmt.Sprintf("ui_writable=%v", writable), func(t *testing.T) {
			cfg := testConfig(t, t.TempDir())
			cfg.Temporal.UIPort = freePort(t)
			cfg.Temporal.UIWritable = writable
			startWorker(t, cfg)
			base := fmt.Sprintf("http://127.0.0.1:%d", cfg.Temporal.UIPort)

			var settings map[string]any
			waitForWithin(t, time.Minute, "the Web UI's settings", func() bool {
				resp, err := http.Get(base + "/api/v1/settings")
				if err != nil {
					return false
				}
				defer resp.Body.Close()
				return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&settings) == nil
			})
			for _, key := range []string{"DisableWriteActions", "WorkflowTerminateDisabled", "WorkflowCancelDisabled",
				"WorkflowSignalDisabled", "WorkflowUpdateDisabled", "WorkflowResetDisabled", "BatchActionsDisabled", "StartWorkflowDisabled"} {
				if settings[key] != !writable {
					t.Errorf("settings %s = %v, want %v", key, settings[key], !writable)
				}
			}

			// The UI server refuses writes itself, not only hides the buttons.
			// (An Authorization header spares the request the UI's CSRF check,
			// so the write switch is what answers.)
			req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/namespaces/"+cfg.Temporal.Namespace+"/workflows/no-such-review/terminate", strings.NewReader("{}"))
			req.Header.Set("Authorization", "Bearer test")
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if refused := resp.StatusCode == http.StatusMethodNotAllowed; refused == writable {
				t.Errorf("terminate through the UI: %s (writable %v)", resp.Status, writable)
			}

			if ip := nonLoopbackIP(); ip != "" {
				if c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, fmt.Sprint(cfg.Temporal.UIPort)), 2*time.Second); err == nil {
					c.Close()
					t.Errorf("the Web UI answers on %s, not only on loopback", ip)
				}
			}
		})
	}
}

// nonLoopbackIP is one of this machine's other IPv4 addresses, or "".
func nonLoopbackIP() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return ""
}
