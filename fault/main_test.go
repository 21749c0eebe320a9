package fault

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/simulate"
	"github.com/churnwatch/churnwatch/snapshot"
	"github.com/churnwatch/churnwatch/temporalserver"
)

var full = flag.Bool("fault.full", false, "scan the whole simulated 100k-account book (thousands of reviews) in TestFault100kBook")

// bins holds the binaries TestMain built: the worker and the starter.
var bins struct{ dir, worker, starter, err string }

// TestMain builds the worker and the starter once for every test (the
// worker's link is heavy), unless -short, which skips the suite.
func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Short() {
		dir, err := os.MkdirTemp("", "churnwatch-fault-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "fault:", err)
			os.Exit(1)
		}
		cmd := exec.Command("go", "build", "-o", dir+"/", "./starter", "./worker")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			bins.err = fmt.Sprintf("build: %v\n%s", err, out)
		}
		bins.dir, bins.worker, bins.starter = dir, filepath.Join(dir, "worker"), filepath.Join(dir, "starter")
		code := m.Run()
		printTable(os.Stdout)
		os.RemoveAll(dir)
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// needBinaries skips under -short and fails when the build did.
func needBinaries(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("the fault suite builds and runs the binaries")
	}
	if bins.err != "" {
		t.Fatal(bins.err)
	}
}

// needEnv returns the test setting name, or skips saying what sets it.
func needEnv(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Skipf("%s is not set (make test sets it; see .churnwatch/test-env)", name)
	}
	return v
}

func freePort(t testing.TB) int {
	t.Helper()
	p, err := temporalserver.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// env is one deployment's configuration, as the CHURNWATCH_* variables
// both binaries read: the worker and the starter of a test share it.
type env struct {
	vars     map[string]string
	dataDir  string
	dsn      string // the store's DSN; empty: SQLite in dataDir
	httpAddr string
	token    string // http.api_token, for uploads
}

// newEnv is a worker on the embedded Temporal server with SQLite in a
// fresh data dir, on free ports, without schedules or the Web UI.
func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{dataDir: t.TempDir(), httpAddr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), token: "fault-token-0123456789"}
	e.vars = map[string]string{
		"CHURNWATCH_DATA_DIR":         e.dataDir,
		"CHURNWATCH_TEMPORAL_PORT":    fmt.Sprint(freePort(t)),
		"CHURNWATCH_TEMPORAL_UI_PORT": "0",
		"CHURNWATCH_HTTP_ADDR":        e.httpAddr,
		"CHURNWATCH_HTTP_API_TOKEN":   e.token,
		"CHURNWATCH_SCHEDULE_ENABLED": "false",
		"CHURNWATCH_LOG_LEVEL":        "warn",
	}
	return e
}

func (e *env) set(k, v string) {
	e.vars[k] = v
	switch k {
	case "CHURNWATCH_STORE_DSN":
		e.dsn = v
	}
}

// environ is the process environment without the caller's CHURNWATCH_
// settings, plus e's.
func (e *env) environ() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CHURNWATCH_") {
			out = append(out, kv)
		}
	}
	for k, v := range e.vars {
		out = append(out, k+"="+v)
	}
	return out
}

// proc is the worker running as a child process.
type proc struct {
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
}

// startWorker runs the worker binary with e and waits for /readyz.
func startWorker(t *testing.T, e *env) *proc {
	t.Helper()
	p := launchWorker(t, e)
	p.waitReady(t, e, 3*time.Minute)
	return p
}

// launchWorker starts the worker binary without waiting for it.
func launchWorker(t *testing.T, e *env) *proc {
	t.Helper()
	logf, err := os.CreateTemp(t.TempDir(), "worker-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bins.worker)
	cmd.Env = e.environ()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, logPath: logf.Name(), done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("worker log (%s), last lines:\n%s", p.logPath, p.tail(40))
		}
	})
	return p
}

func (p *proc) waitReady(t *testing.T, e *env, within time.Duration) {
	t.Helper()
	waitFor(t, within, "the worker's /readyz", func() bool {
		select {
		case <-p.done:
			t.Fatalf("the worker exited while starting; log:\n%s", p.tail(40))
		default:
		}
		resp, err := http.Get("http://" + e.httpAddr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// grep returns the first line of the worker's log holding any of words.
func (p *proc) grep(words ...string) string {
	b, _ := os.ReadFile(p.logPath)
	for _, line := range strings.Split(string(b), "\n") {
		for _, w := range words {
			if strings.Contains(line, w) {
				return line
			}
		}
	}
	return ""
}

// tail is the end of the worker's log.
func (p *proc) tail(n int) string {
	b, _ := os.ReadFile(p.logPath)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// starter runs the starter with e and returns stdout, stderr and the exit code.
func starter(t testing.TB, e *env, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bins.starter, args...)
	cmd.Env = e.environ()
	cmd.Stdin = strings.NewReader(stdin)
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

// scanResult is the part of `starter scan --json` the suite reads (the
// CLI contract's fields).
type scanResult struct {
	BatchID      string         `json:"batch_id"`
	AsOf         string         `json:"as_of"`
	Rows         int            `json:"rows"`
	Accounts     int            `json:"accounts"`
	Tiers        map[string]int `json:"tiers"`
	StartedCount int            `json:"started_count"`
	AlreadyOpen  int            `json:"already_open_count"`
}

// scan runs `starter scan --json` on files and fails the test on an error.
func scan(t testing.TB, e *env, files []string, extra ...string) scanResult {
	t.Helper()
	args := []string{"scan", "--json"}
	for _, f := range files {
		args = append(args, "--input", f)
	}
	out, errOut, code := starter(t, e, "", append(args, extra...)...)
	if code != 0 {
		t.Fatalf("starter scan: exit %d: %s", code, errOut)
	}
	return decodeScan(t, out)
}

func decodeScan(t testing.TB, out string) scanResult {
	t.Helper()
	var res scanResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Errorf("starter scan --json: %v\n%.500s", err, out)
	}
	return res
}

// waitFor polls cond until it holds, failing the test after within.
func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// book is a simulated portfolio written as the CSV an export job drops,
// with the accounts the risk model flags as of its last week (every one of
// them opens a review on a first scan).
type book struct {
	path    string
	rows    []snapshot.Snapshot
	asOf    string
	flagged map[string]string // account → owner, elevated or critical
	// assessed are the flagged accounts' assessments, scored from the
	// file as the worker reads it.
	assessed map[string]risk.Assessment
}

// bookOptions is a book of n accounts, 12 weeks ending on the example
// book's week; rare churners and traps when calm (a few at risk per
// thousand), the simulator's defaults otherwise (about 8 in 100).
func bookOptions(n int, seed int64, calm bool) simulate.Options {
	o := simulate.Options{Accounts: n, Weeks: 12, Seed: seed, Start: simulate.BookWeek.AddDate(0, 0, -7*11)}
	if calm {
		o.ChurnRate, o.TrapRate = 0.005, 0.002
	}
	return o
}

func newBook(t testing.TB, o simulate.Options) *book {
	t.Helper()
	rows, _ := simulate.Portfolio(o)
	b := &book{path: filepath.Join(t.TempDir(), fmt.Sprintf("book-%d.csv", o.Accounts)), rows: rows}
	f, err := os.Create(b.path)
	if err != nil {
		t.Fatal(err)
	}
	if err := snapshot.WriteCSV(f, rows); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	b.asOf, b.flagged, b.assessed = flaggedAsOf(t, b.path, time.Time{})
	return b
}

// flaggedAsOf scores the file as of asOf (zero: the latest week) with the
// default model, as `starter score` does, and returns the week and the
// elevated and critical accounts with their owners and assessments.
func flaggedAsOf(t testing.TB, path string, asOf time.Time) (string, map[string]string, map[string]risk.Assessment) {
	t.Helper()
	week, all := scoresAsOf(t, path, asOf)
	flagged, assessed := map[string]string{}, map[string]risk.Assessment{}
	for id, a := range all {
		if a.Tier.AtRisk() {
			flagged[id], assessed[id] = a.Owner, a
		}
	}
	return week, flagged, assessed
}

// scoresAsOf scores every account of the file as of asOf (zero: the
// latest week) with the default model and returns the week and them.
func scoresAsOf(t testing.TB, path string, asOf time.Time) (string, map[string]risk.Assessment) {
	t.Helper()
	cfg, err := config.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := snapshot.ReadFiles([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	rep := cfg.Risk.NewReport(batch, asOf)
	all := make(map[string]risk.Assessment, len(rep.Accounts))
	for _, a := range rep.Accounts {
		all[a.AccountID] = a
	}
	return rep.AsOf, all
}

// temporalDev is the Temporal CLI's dev server, persisted in a file so a
// restart on the same file and port finds every workflow again.
type temporalDev struct {
	cli, db string
	port    int
	cmd     *exec.Cmd
	log     bytes.Buffer
}

func startTemporalDev(t *testing.T, cli string) *temporalDev {
	t.Helper()
	d := &temporalDev{cli: cli, db: filepath.Join(t.TempDir(), "temporal.db"), port: freePort(t)}
	d.start(t)
	t.Cleanup(d.kill)
	return d
}

func (d *temporalDev) addr() string { return fmt.Sprintf("127.0.0.1:%d", d.port) }

func (d *temporalDev) start(t *testing.T) {
	t.Helper()
	d.cmd = exec.Command(d.cli, "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", fmt.Sprint(d.port),
		"--http-port", fmt.Sprint(freePort(t)), "--metrics-port", fmt.Sprint(freePort(t)),
		"--db-filename", d.db, "--log-level", "error")
	d.cmd.Stdout, d.cmd.Stderr = &d.log, &d.log
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Minute, "the Temporal CLI's dev server", func() bool {
		c, err := net.Dial("tcp", d.addr())
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// kill stops the server with SIGKILL, as a crash would.
func (d *temporalDev) kill() {
	if d.cmd != nil && d.cmd.ProcessState == nil {
		_ = d.cmd.Process.Signal(syscall.SIGKILL)
		_ = d.cmd.Wait()
	}
}

// ctx is a context for store reads that fail rather than hang.
func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// row is one line of the suite's table: the fault, what was checked, and
// the result with the figures measured.
type row struct {
	fault, checked, figure, result string
	took                           time.Duration
}

var table struct {
	sync.Mutex
	rows []*row
}

// track adds t's line to the table TestMain prints (go test -v shows it);
// the result is set when t ends.
func track(t *testing.T, fault, checked string) *row {
	r := &row{fault: fault, checked: checked}
	start := time.Now()
	t.Cleanup(func() {
		r.took = time.Since(start).Round(time.Second)
		switch {
		case t.Skipped():
			r.result = "skipped"
		case t.Failed():
			r.result = "FAILED"
		default:
			r.result = "ok"
		}
		table.Lock()
		table.rows = append(table.rows, r)
		table.Unlock()
	})
	return r
}

// printTable writes the table in Markdown.
func printTable(w io.Writer) {
	table.Lock()
	defer table.Unlock()
	if len(table.rows) == 0 {
		return
	}
	fmt.Fprintln(w, "\n| fault | what was checked | result |\n|---|---|---|")
	for _, r := range table.rows {
		res := fmt.Sprintf("%s in %s", r.result, r.took)
		if r.figure != "" {
			res += "; " + r.figure
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", r.fault, r.checked, res)
	}
}
