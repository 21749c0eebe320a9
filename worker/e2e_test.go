package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/workflows"
)

// binaries builds the worker and the starter once per test binary.
func binaries(t testing.TB) (worker, starter string) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+"/", "./worker", "./starter")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return filepath.Join(dir, "worker"), filepath.Join(dir, "starter")
}

// cleanEnv is the environment without any CHURNWATCH_ setting of the caller.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CHURNWATCH_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

type workerProc struct {
	cmd  *exec.Cmd
	http string
	log  *bytes.Buffer
}

func startWorkerProc(t *testing.T, bin string, env []string, args ...string) *workerProc {
	t.Helper()
	httpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd := exec.Command(bin, append(args, "--http-addr", httpAddr)...)
	cmd.Env = env
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &workerProc{cmd: cmd, http: httpAddr, log: &log}
	t.Cleanup(func() { w.kill() })
	deadline := time.Now().Add(2 * time.Minute)
	for {
		// Ready, not merely alive: the workers poll and reach Temporal and the store.
		resp, err := http.Get("http://" + httpAddr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return w
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker not ready in 2 minutes; log:\n%s", log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (w *workerProc) kill() {
	if w.cmd.ProcessState == nil {
		_ = w.cmd.Process.Signal(syscall.SIGKILL)
		_ = w.cmd.Wait()
	}
}

// starterCmd runs the starter and returns its stdout, stderr and exit code.
func starterCmd(t testing.TB, bin string, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func listReviewsCLI(t *testing.T, starter string, env []string, args ...string) []map[string]any {
	t.Helper()
	out, errOut, code := starterCmd(t, starter, env, append([]string{"reviews", "list", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("reviews list: exit %d: %s", code, errOut)
	}
	var items []map[string]any
	if err := json.Unmarshal([]byte(out), &items); err != nil {
		t.Fatalf("reviews list --json: %v\n%s", err, out)
	}
	return items
}

// TestContractSurvivesKill9 drives the contract's commands against real
// binaries, kills the worker with SIGKILL in the middle of the reviews and
// checks that a restart on the same data dir loses nothing and duplicates
// nothing.
func TestContractSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binaries")
	}
	workerBin, starterBin := binaries(t)
	dataDir := t.TempDir()
	port := freePort(t)
	env := cleanEnv(fmt.Sprintf("CHURNWATCH_TEMPORAL_PORT=%d", port), "CHURNWATCH_SCHEDULE_ENABLED=false", "CHURNWATCH_TEMPORAL_UI_PORT=0")
	book, _ := filepath.Abs("../examples/portfolio.csv")

	w := startWorkerProc(t, workerBin, env, "--data-dir", dataDir)

	out, errOut, code := starterCmd(t, starterBin, env, "scan", "--input", book, "--json")
	if code != 0 {
		t.Fatalf("scan: exit %d: %s", code, errOut)
	}
	var res workflows.ScanResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Started) == 0 {
		t.Fatal("scan started no review")
	}
	// SIGKILL while the reviews are being drafted.
	w.kill()
	w = startWorkerProc(t, workerBin, env, "--data-dir", dataDir)

	var items []map[string]any
	// An activity the killed worker had started is retried once its
	// start-to-close timeout passes: allow for it after each kill.
	const afterKill = 3 * time.Minute
	waitForWithin(t, afterKill, "every review in the list after the restart", func() bool {
		items = listReviewsCLI(t, starterBin, env)
		return len(items) == len(res.Started)
	})
	for _, it := range items {
		for _, k := range []string{"review_id", "account_id", "tier", "score", "state", "owner"} {
			if _, ok := it[k]; !ok {
				t.Fatalf("reviews list item lacks %q: %v", k, it)
			}
		}
	}
	id := review.ID(res.Started[0].AccountID, res.AsOf)
	owner := res.Started[0].Owner
	var p review.Packet
	waitForWithin(t, afterKill, "the brief after the restart", func() bool {
		out, _, code := starterCmd(t, starterBin, env, "review", "show", id, "--json")
		return code == 0 && json.Unmarshal([]byte(out), &p) == nil && p.Draft != nil
	})
	if len(p.Assessment.Signals) == 0 || p.Draft.Brief == "" {
		t.Fatalf("review show lacks evidence or brief: %+v", p)
	}

	if _, _, code := starterCmd(t, starterBin, env, "review", "approve", id); code != 2 {
		t.Errorf("approve without --as: exit %d, want 2", code)
	}
	if _, errOut, code := starterCmd(t, starterBin, env, "review", "approve", id, "--as", "mallory"); code != 1 || !strings.Contains(errOut, "may not decide") {
		t.Errorf("approve by a stranger: exit %d, %s", code, errOut)
	}
	if _, errOut, code := starterCmd(t, starterBin, env, "review", "approve", id, "--as", owner, "--note", "calling today"); code != 0 {
		t.Fatalf("approve: exit %d: %s", code, errOut)
	}

	// Kill again after the decision; the decision must survive.
	w.kill()
	startWorkerProc(t, workerBin, env, "--data-dir", dataDir)
	waitForWithin(t, afterKill, "the approved state after the second restart", func() bool {
		out, _, code := starterCmd(t, starterBin, env, "review", "show", id, "--json")
		return code == 0 && json.Unmarshal([]byte(out), &p) == nil && p.State == review.ActionAssigned
	})
	if p.Decision == nil || p.Decision.Actor != owner {
		t.Fatalf("decision lost: %+v", p.Decision)
	}

	// Rescanning the same input starts nothing new.
	out, errOut, code = starterCmd(t, starterBin, env, "scan", "--input", book, "--json")
	if code != 0 {
		t.Fatalf("rescan: exit %d: %s", code, errOut)
	}
	var again workflows.ScanResult
	if err := json.Unmarshal([]byte(out), &again); err != nil {
		t.Fatal(err)
	}
	if len(again.Started) != 0 {
		t.Fatalf("rescan started %v", again.Started)
	}

	// Every review reaches its gate after the kills (activities the killed
	// workers held are retried once their timeouts pass).
	for _, c := range res.Started {
		rid := review.ID(c.AccountID, res.AsOf)
		waitForWithin(t, afterKill, "the drafts of "+rid, func() bool {
			var q review.Packet
			out, _, code := starterCmd(t, starterBin, env, "review", "show", rid, "--json")
			return code == 0 && json.Unmarshal([]byte(out), &q) == nil && q.Draft != nil
		})
	}

	// The decision record has each event once, despite the kills.
	ctx := context.Background()
	st, err := store.Open(ctx, "", dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	events, err := st.Events(ctx, store.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	flagged := map[string]int{}
	for _, e := range events {
		if seen[e.Key] {
			t.Errorf("duplicate event %s", e.Key)
		}
		seen[e.Key] = true
		if e.Kind == review.EventFlagged {
			flagged[e.ReviewID]++
		}
	}
	for _, c := range res.Started {
		if n := flagged[review.ID(c.AccountID, res.AsOf)]; n != 1 {
			t.Errorf("%s flagged %d times", c.AccountID, n)
		}
	}

	// The official Temporal CLI is a client too: reject a review through it.
	if cli := os.Getenv("CHURNWATCH_TEST_TEMPORAL_CLI"); cli != "" {
		second := review.ID(res.Started[1].AccountID, res.AsOf)
		input := fmt.Sprintf(`{"kind":"reject","actor":%q,"reason":"known seasonal dip"}`, res.Started[1].Owner)
		cmd := exec.Command(cli, "workflow", "update", "execute", "--address", fmt.Sprintf("127.0.0.1:%d", port),
			"--workflow-id", second, "--name", workflows.UpdateDecide, "--input", input)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("temporal workflow update execute on %s: %v\n%s", second, err, out)
		}
		out, _, _ := starterCmd(t, starterBin, env, "review", "show", second, "--json")
		if err := json.Unmarshal([]byte(out), &p); err != nil || p.State != review.Rejected {
			t.Fatalf("after the CLI's rejection: %s %v", p.State, err)
		}
	}
}
