package fault

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pgCluster is a PostgreSQL cluster of the test's own, made and started
// by .ci/postgres.sh in a directory and on a port of its own: restarting it
// disturbs no other test (go test ./... runs the store's tests against the
// shared cluster meanwhile).
type pgCluster struct {
	dir, port, pgCtl string
}

// startCluster starts a cluster and returns it with its DSN; the test's
// end stops it and removes it.
func startCluster(t *testing.T) (pgCluster, string) {
	t.Helper()
	needEnv(t, "CHURNWATCH_TEST_POSTGRES_DSN") // make test installed PostgreSQL
	pgCtls, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(pgCtls) == 0 {
		t.Skip("no /usr/lib/postgresql/*/bin/pg_ctl (make test installs PostgreSQL)")
	}
	sort.Slice(pgCtls, func(i, j int) bool { return pgMajor(pgCtls[i]) < pgMajor(pgCtls[j]) })
	// Under /tmp, not t.TempDir(): the postgres user must reach it.
	dir, err := os.MkdirTemp("", "churnwatch-fault-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c := pgCluster{dir: dir, port: fmt.Sprint(freePort(t)), pgCtl: pgCtls[len(pgCtls)-1]}
	t.Cleanup(func() {
		_, _ = c.script("stop")
		os.RemoveAll(dir)
	})
	out, err := c.script()
	if err != nil {
		t.Fatal(err)
	}
	_, dsn, ok := strings.Cut(strings.TrimSpace(out), "CHURNWATCH_TEST_POSTGRES_DSN=")
	if !ok {
		t.Fatalf("postgres.sh printed no DSN: %s", out)
	}
	return c, dsn
}

func pgMajor(pgCtl string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(pgCtl))))
	return n
}

// script runs .ci/postgres.sh for this cluster and returns its stdout.
func (c pgCluster) script(args ...string) (string, error) {
	cmd := exec.Command("bash", append([]string{"../.ci/postgres.sh"}, args...)...)
	cmd.Env = append(os.Environ(), "CHURNWATCH_PG_DIR="+c.dir, "CHURNWATCH_PG_PORT="+c.port)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("postgres.sh %v: %v\n%s", args, err, stderr.String())
	}
	return string(out), nil
}

// asOwner runs a PostgreSQL command as the cluster's owner, as
// .ci/postgres.sh does (postgres refuses to run as root).
func asOwner(name string, args ...string) *exec.Cmd {
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	}
	return exec.Command(name, args...)
}

// restart stops the cluster as a crash would (immediate: no checkpoint,
// connections cut) and, after down, starts it again with .ci/postgres.sh.
func (c pgCluster) restart(t *testing.T, down time.Duration) {
	t.Helper()
	if out, err := asOwner(c.pgCtl, "-D", filepath.Join(c.dir, "data"), "-m", "immediate", "-w", "stop").CombinedOutput(); err != nil {
		t.Fatalf("stop PostgreSQL: %v\n%s", err, out)
	}
	time.Sleep(down) // the outage's length, not an assertion
	if _, err := c.script(); err != nil {
		t.Fatal(err)
	}
}

// TestFaultPostgresRestart runs the worker (embedded Temporal) on
// PostgreSQL (a cluster of its own) and restarts PostgreSQL twice: while a scan is starting its
// reviews, and while 20 clients decide them through the API. The scan
// finishes, every flagged account has one review drafted and waiting, and
// every decision (retried with its key while the database is away) is
// recorded once and carried out.
func TestFaultPostgresRestart(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	row := track(t, "PostgreSQL restarted (immediate stop, 3 s down) mid-scan and mid-review (embedded Temporal; a cluster of the test's own made by .ci/postgres.sh)",
		"the scan completes; every flagged account has one review, drafted and waiting, one flagged and one drafted event; every decision answered 200 after retries with its key, recorded once, at action_assigned")
	pg, dsn := startCluster(t)
	e := newEnv(t)
	e.set("CHURNWATCH_STORE_DSN", dsn)
	b := newBook(t, bookOptions(4000, 5432, false))
	tokens := addOwners(t, e, 4)
	startWorker(t, e)
	st := openStore(t, e)

	scanned := make(chan scanResult, 1)
	go func() {
		// A failure is reported by the missing result below.
		out, errOut, code := starter(t, e, "", "scan", "--json", "--input", b.path)
		if code != 0 {
			t.Errorf("starter scan across the restart: exit %d: %s", code, errOut)
			scanned <- scanResult{}
			return
		}
		scanned <- decodeScan(t, out)
	}()
	waitFor(t, 2*time.Minute, "the scan's first reviews", func() bool {
		return countState(t, st, "drafting")+countState(t, st, "awaiting_approval") > 0
	})
	reviewsBefore := countState(t, st, "drafting") + countState(t, st, "awaiting_approval")
	pg.restart(t, 3*time.Second)
	var res scanResult
	select {
	case res = <-scanned:
		t.Logf("the scan had finished before the restart ended: the fault hit its reviews, not its start")
	default:
		res = <-scanned
	}
	// A StartReviews attempt cut off by the restart may have started
	// reviews its heartbeat did not report: its retry finds them open and
	// counts them so. Every flagged account is in one count or the other.
	if res.StartedCount+res.AlreadyOpen != len(b.flagged) {
		t.Errorf("the scan started %d reviews and found %d open; the model flags %d accounts", res.StartedCount, res.AlreadyOpen, len(b.flagged))
	}
	if res.AlreadyOpen > 0 {
		t.Logf("the scan reports %d of its own reviews as already open (started by the attempt the restart cut off)", res.AlreadyOpen)
	}
	byOwner := awaitGate(t, st, b.asOf, b.flagged, 4*time.Minute)

	jobs := jobsOf(byOwner, 0)
	done := make(chan []answer)
	go func() { done <- decideAll(e, tokens, jobs, 20, 3*time.Minute) }()
	waitFor(t, time.Minute, "the first decisions", func() bool { return countState(t, st, "action_assigned") > 0 })
	decidedBefore := countState(t, st, "action_assigned")
	pg.restart(t, 3*time.Second)
	retried := checkAnswers(t, <-done)
	awaitDecided(t, st, b.asOf, jobs, 4*time.Minute)
	row.figure = fmt.Sprintf("%d reviews, %d in the record at the first restart (the scan counted %d started, %d already open); %d of %d decided at the second, %d requests retried",
		len(b.flagged), reviewsBefore, res.StartedCount, res.AlreadyOpen, decidedBefore, len(jobs), retried)
}
