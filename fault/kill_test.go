package fault

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/store"
)

// receipt is the part of POST /api/snapshots's answer the suite reads.
type receipt struct {
	Upload string `json:"upload"`
	Rows   int    `json:"rows"`
	ScanID string `json:"scan_id"`
	Error  string `json:"error"`
}

// upload posts body to the worker's /api/snapshots as an export job does.
func upload(e *env, name string, body io.Reader, scanNow bool) (int, receipt, error) {
	u := fmt.Sprintf("http://%s/api/snapshots?name=%s", e.httpAddr, name)
	if scanNow {
		u += "&scan=now"
	}
	req, err := http.NewRequest(http.MethodPost, u, body)
	if err != nil {
		return 0, receipt{}, err
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, receipt{}, err
	}
	defer resp.Body.Close()
	var rec receipt
	err = json.NewDecoder(resp.Body).Decode(&rec)
	return resp.StatusCode, rec, err
}

// TestFaultKill9MidUploadAndIngest kills the worker (embedded Temporal
// server, SQLite record) with SIGKILL twice: while an export job is half
// way through uploading a week's file, and just after a complete upload
// started its scan, before the scan's ingest committed. The half upload
// leaves nothing in the inbox; the complete one is scanned once after the
// restart, and every flagged account gets exactly one review, drafted and
// waiting. A rescan of the same file starts nothing.
func TestFaultKill9MidUploadAndIngest(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	e := newEnv(t)
	b := newBook(t, bookOptions(3000, 12, false))
	body, err := os.ReadFile(b.path)
	if err != nil {
		t.Fatal(err)
	}
	row := track(t, "kill -9 of the worker mid-upload and mid-ingest (embedded Temporal, SQLite)",
		"a half upload leaves nothing; after the restart every flagged account has one review, drafted and waiting; one flagged and one drafted event each; the upload consumed once; a rescan starts nothing")
	w := startWorker(t, e)

	// Mid-upload: half the file is sent, then the worker dies.
	pr, pw := io.Pipe()
	posted := make(chan error, 1)
	go func() {
		_, _, err := upload(e, "week47.csv", pr, true)
		posted <- err
	}()
	if _, err := pw.Write(body[:len(body)/2]); err != nil {
		t.Fatalf("send the first half: %v", err)
	}
	w.kill()
	pw.CloseWithError(fmt.Errorf("the worker was killed"))
	if err := <-posted; err == nil {
		t.Fatal("an upload cut off by SIGKILL was answered")
	}
	w = startWorker(t, e)
	st := openStore(t, e)
	pending, err := st.ScanUploads(ctx(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 0 {
		t.Fatalf("the cut-off upload left %d uploads in the inbox (first %d of %d bytes)", len(pending), pending[0].Size, len(body))
	}

	// Mid-ingest: the whole file is taken and its scan started; the worker
	// dies before the scan's ingest has committed the batch.
	code, rec, err := upload(e, "week47.csv", bytes.NewReader(body), true)
	if err != nil || code != http.StatusAccepted || rec.ScanID == "" || rec.Rows != len(b.rows) {
		t.Fatalf("upload: %d %+v %v", code, rec, err)
	}
	time.Sleep(300 * time.Millisecond) // the fault's timing, not an assertion
	w.kill()
	u, err := st.Upload(ctx(t), rec.Upload)
	if err != nil {
		t.Fatal(err)
	}
	midIngest := u.State == store.UploadPending
	t.Logf("killed with the upload %s (mid-ingest: %v)", u.State, midIngest)
	startWorker(t, e)

	// The kill costs the ingest's heartbeat timeout (1 min) before its retry.
	byOwner := awaitGate(t, st, b.asOf, b.flagged, 5*time.Minute)
	if u, err = st.Upload(ctx(t), rec.Upload); err != nil || u.State != store.UploadConsumed || u.ScanID != rec.ScanID {
		t.Errorf("the upload after the restart: %+v, %v; want consumed by %s", u, err, rec.ScanID)
	}
	again := scan(t, e, []string{b.path})
	if again.StartedCount != 0 || again.AlreadyOpen != len(b.flagged) {
		t.Errorf("a rescan of the same week started %d reviews and found %d open; want 0 and %d", again.StartedCount, again.AlreadyOpen, len(b.flagged))
	}
	row.figure = fmt.Sprintf("%d accounts, %d reviews (%d owners); killed mid-ingest: %v", 3000, len(b.flagged), len(byOwner), midIngest)
}
