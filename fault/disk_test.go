package fault

import (
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/churnwatch/churnwatch/review"
)

// mountDataDir mounts a tmpfs of size as a data dir, so the test can fill
// it and make it read-only; it skips when mounting is not allowed.
func mountDataDir(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs as the data dir (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

func remount(t *testing.T, dir, opts string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,"+opts, dir).CombinedOutput(); err != nil {
		t.Fatalf("remount %s %s: %v %s", dir, opts, err, out)
	}
}

// fill writes a file in dir until the file system is full.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return path
			}
			t.Fatalf("fill the data dir: %v", err)
		}
	}
}

// readyz is the worker's /readyz answer: its status and body.
func readyz(e *env) (int, string) {
	resp, err := http.Get("http://" + e.httpAddr + "/readyz")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// integrity runs SQLite's integrity check on every database in dir.
func integrity(t *testing.T, dir string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.db"))
	if len(files) == 0 {
		t.Fatalf("no SQLite database in %s", dir)
	}
	var checked []string
	for _, f := range files {
		db, err := sql.Open("sqlite", "file:"+f+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		var res string
		if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
			t.Errorf("%s: integrity check: %q %v", filepath.Base(f), res, err)
		}
		db.Close()
		checked = append(checked, filepath.Base(f))
	}
	return checked
}

// TestFaultDiskFullAndReadOnlyDataDir runs the worker on the embedded
// default with its data dir (the embedded Temporal server's database and
// the decision record) on a small file system. It fills the disk while a
// scan's reviews are on their way to the gate, then frees it; later it
// makes the data dir read-only (with the worker stopped: a file system
// with files open for writing cannot be remounted read-only). Each time it
// is said clearly (/readyz or the worker's log names the full disk; the
// starter's commands fail with the database's reason; a worker that
// cannot start exits saying why), and once space or writes are back
// everything goes on: the scan finishes, every review reaches its gate,
// a rescan starts nothing, and both SQLite databases pass their
// integrity check.
func TestFaultDiskFullAndReadOnlyDataDir(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	row := track(t, "disk full, then a read-only data dir (embedded Temporal and SQLite on a small tmpfs)",
		"full mid-scan: /readyz 503 or the log names the full disk, `starter users add` exits 1 saying why (or succeeds); read-only: `starter users add` and a worker started on it exit 1 saying why; once freed or writable: ready again, every flagged account has one review drafted and waiting; SQLite integrity_check ok on every database")
	dir := mountDataDir(t, "256m")
	e := newEnv(t)
	e.set("CHURNWATCH_DATA_DIR", dir)
	e.dataDir = dir
	b := newBook(t, bookOptions(2000, 3, false))
	w := startWorker(t, e)
	st := openStore(t, e)

	// Full mid-scan: the disk fills while the scan's reviews are on their
	// way to the gate; the worker says so, and goes on once space is back.
	scanned := make(chan scanResult, 1)
	go func() {
		out, errOut, code := starter(t, e, "", "scan", "--json", "--input", b.path)
		if code != 0 {
			t.Errorf("starter scan across the full disk: exit %d: %s", code, errOut)
		}
		scanned <- decodeScan(t, out)
	}()
	waitFor(t, 2*time.Minute, "the scan's first reviews", func() bool {
		return countState(t, st, review.Drafting)+countState(t, st, review.AwaitingApproval) > 0
	})
	filler := fill(t, dir)
	atFull := countState(t, st, review.AwaitingApproval)
	said := saysFull(t, e, w)
	_, fullErr, code := starter(t, e, "pw-full-disk-123\n", "users", "add", "full", "--role", "csm", "--password-stdin")
	if code != 0 && (code != 1 || !strings.Contains(fullErr, "full")) {
		t.Errorf("users add on a full disk: exit %d: %s; want 1 and the reason (or success)", code, fullErr)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "/readyz once space is back", func() bool { code, _ := readyz(e); return code == http.StatusOK })
	res := <-scanned
	awaitGate(t, st, b.asOf, b.flagged, 3*time.Minute)
	if res.StartedCount+res.AlreadyOpen != len(b.flagged) {
		t.Errorf("the scan started %d and found %d open; the model flags %d", res.StartedCount, res.AlreadyOpen, len(b.flagged))
	}

	// Read-only: nothing can be opened for writing. (A file system with
	// files open for writing cannot be remounted read-only, so this is the
	// data dir a worker or the starter finds read-only when it starts.)
	w.kill()
	st.Close()
	remount(t, dir, "ro")
	_, roErr, code := starter(t, e, "pw-read-only-123\n", "users", "add", "ro", "--role", "csm", "--password-stdin")
	if code != 1 || !strings.Contains(strings.ToLower(roErr), "read") {
		t.Errorf("users add on a read-only data dir: exit %d: %s; want 1 and the reason", code, roErr)
	}
	w = launchWorker(t, e)
	select {
	case <-w.done:
	case <-time.After(2 * time.Minute):
		t.Fatal("a worker on a read-only data dir neither started nor exited")
	}
	if c := w.cmd.ProcessState.ExitCode(); c != 1 || !strings.Contains(strings.ToLower(w.tail(5)), "read-only") {
		t.Errorf("the worker on a read-only data dir: exit %d:\n%s", c, w.tail(5))
	}
	startLog := errorOf(w.tail(1))
	remount(t, dir, "rw")
	w = startWorker(t, e)
	st = openStore(t, e)
	if again := scan(t, e, []string{b.path}); again.StartedCount != 0 || again.AlreadyOpen != len(b.flagged) {
		t.Errorf("a rescan after the faults started %d and found %d open; want 0 and %d", again.StartedCount, again.AlreadyOpen, len(b.flagged))
	}
	if n := countState(t, st, review.AwaitingApproval); n != len(b.flagged) {
		t.Errorf("%d reviews at the gate after the restart; want %d", n, len(b.flagged))
	}
	w.kill()
	st.Close()
	dbs := integrity(t, dir)
	row.figure = fmt.Sprintf("%d reviews, %d at the gate when the disk filled; full: %s; users add: %q; read-only: users add %q, worker %q; integrity ok: %s",
		len(b.flagged), atFull, said, firstLine(fullErr), firstLine(roErr), startLog, strings.Join(dbs, ", "))
}

// saysFull waits until the worker says its disk is full: /readyz stops
// answering 200, or its log names the full disk (SQLite may go on writing
// into pages its files already have, so the store's check can pass for a
// while). It returns what it said.
func saysFull(t *testing.T, e *env, w *proc) string {
	t.Helper()
	var said string
	waitFor(t, time.Minute, "the worker to say the disk is full", func() bool {
		if code, body := readyz(e); code != http.StatusOK {
			said = fmt.Sprintf("/readyz %d %s", code, body)
			return true
		}
		if m := fullRE.FindString(w.grep("disk is full", "no space left")); m != "" {
			said = fmt.Sprintf("the log says %q", m)
			return true
		}
		return false
	})
	return said
}

var fullRE = regexp.MustCompile(`[^"=]*(disk is full|no space left)[^"]*`)

// errorOf is the error a log line reports.
func errorOf(line string) string {
	if _, e, ok := strings.Cut(line, "error="); ok {
		return strings.Trim(e, `"`)
	}
	return line
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	if len(l) > 160 {
		l = l[:160] + "…"
	}
	return l
}
