package inbox

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/churnwatch/churnwatch/store"
)

const header = "account_id,account_name,week,owner,arr,logins,dau_mau\n"

func post(t *testing.T, h *Handler, target, token, contentType, body string) (int, Receipt) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var rec Receipt
	if err := json.Unmarshal(w.Body.Bytes(), &rec); err != nil {
		t.Fatalf("answer %d is not a receipt: %v\n%s", w.Code, err, w.Body)
	}
	return w.Code, rec
}

// openStore opens a SQLite store in a temporary directory.
func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// pending lists the inbox's pending uploads.
func pending(t *testing.T, st store.Store) []store.Upload {
	t.Helper()
	us, err := st.ScanUploads(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return us
}

func TestUploadKeepsValidRowsAndReportsTheRest(t *testing.T) {
	st := openStore(t)
	var scans int
	h := &Handler{Store: st, Token: "s3cret", MaxBytes: 1 << 20, StartScan: func(ctx context.Context) (string, error) {
		scans++
		return "scan/abc", nil
	}}
	body := header +
		"A-1,Northwind,2026-11-16,dana,84000,120,0.41\n" +
		"A-2,Globex,2026-11-16,li.wei,52000,80,1.7\n" + // dau_mau out of range
		"A-3,Initech,2026-11-16,marco,31000,44,0.3\n"

	if code, _ := post(t, h, "/api/snapshots?name=week47.csv", "", "", body); code != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", code)
	}
	if code, _ := post(t, h, "/api/snapshots?name=week47.csv", "wrong", "", body); code != http.StatusUnauthorized {
		t.Errorf("wrong token: %d, want 401", code)
	}
	if kept := pending(t, st); len(kept) != 0 {
		t.Fatalf("refused uploads left %+v", kept)
	}

	code, rec := post(t, h, "/api/snapshots?name=week47.csv&scan=now", "s3cret", "", body)
	if code != http.StatusAccepted || rec.Rows != 2 || rec.Accounts != 2 || rec.ScanID != "scan/abc" {
		t.Fatalf("upload: %d %+v", code, rec)
	}
	if len(rec.Rejected) != 1 || rec.Rejected[0].File != "week47.csv" || rec.Rejected[0].Row != 3 || rec.Rejected[0].Field != "dau_mau" {
		t.Errorf("rejected %+v, want week47.csv row 3 dau_mau", rec.Rejected)
	}
	kept := pending(t, st)
	if len(kept) != 1 || kept[0].ID != rec.Upload || kept[0].Name != "week47.csv" || string(kept[0].Content) != body || kept[0].State != store.UploadPending {
		t.Fatalf("the inbox holds %+v, want the body as week47.csv, pending, as %s", kept, rec.Upload)
	}
	if scans != 1 {
		t.Errorf("%d scans started, want 1", scans)
	}

	// NDJSON by Content-Type.
	code, rec = post(t, h, "/api/snapshots", "s3cret", "application/x-ndjson",
		`{"account_id":"A-9","account_name":"Umbrella","week":"2026-11-16","owner":"dana","arr":1000}`+"\n")
	if code != http.StatusAccepted || rec.Rows != 1 {
		t.Errorf("ndjson upload: %d %+v", code, rec)
	}
	if kept := pending(t, st); len(kept) != 2 || kept[1].ID != rec.Upload || kept[1].Name != "snapshots.ndjson" || kept[0].ID >= kept[1].ID {
		t.Errorf("after the second upload the inbox holds %+v, want it last, as snapshots.ndjson", kept)
	}
}

func TestUploadRefusals(t *testing.T) {
	st := openStore(t)
	h := &Handler{Store: st, Token: "s3cret", MaxBytes: 200}
	cases := []struct {
		name, target, contentType, body string
		code                            int
		says                            string
	}{
		{"nothing valid", "/api/snapshots?name=w.csv", "", header + "A-1,,2026-11-16,dana,1,1,0.1\n", http.StatusUnprocessableEntity, "no valid row"},
		{"a path in the name", "/api/snapshots?name=../../etc/w.csv", "", header, http.StatusBadRequest, "no path"},
		{"not a snapshot file", "/api/snapshots?name=w.exe", "", header, http.StatusBadRequest, "extension"},
		{"no name, no type", "/api/snapshots", "application/octet-stream", header, http.StatusBadRequest, "Content-Type"},
		{"too large", "/api/snapshots?name=w.csv", "", header + strings.Repeat("A-1,N,2026-11-16,dana,1,1,0.1\n", 20), http.StatusRequestEntityTooLarge, "over 200 bytes"},
		{"scan without a scanner", "/api/snapshots?name=w.csv&scan=now", "", header, http.StatusBadRequest, "cannot start scans"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, rec := post(t, h, c.target, "s3cret", c.contentType, c.body)
			if code != c.code || !strings.Contains(rec.Error, c.says) {
				t.Errorf("%d %q, want %d saying %q", code, rec.Error, c.code, c.says)
			}
		})
	}
	if kept := pending(t, st); len(kept) != 0 {
		t.Errorf("refused uploads left %+v in the inbox", kept)
	}
}

// heldBody is a request body that says when it is first read and then
// waits to be let go: an upload still arriving.
type heldBody struct {
	reading chan struct{}
	release chan struct{}
	once    bool
	r       io.Reader
}

func (b *heldBody) Read(p []byte) (int, error) {
	if !b.once {
		b.once = true
		close(b.reading)
		<-b.release
	}
	return b.r.Read(p)
}

func TestUploadConcurrencyLimit(t *testing.T) {
	st := openStore(t)
	h := &Handler{Store: st, Token: "s3cret", MaxBytes: 1 << 20, MaxConcurrent: 2}
	body := header + "A-1,Northwind,2026-11-16,dana,84000,120,0.41\n"
	release := make(chan struct{})
	codes := make(chan int, 2)
	for range 2 {
		b := &heldBody{reading: make(chan struct{}), release: release, r: strings.NewReader(body)}
		req := httptest.NewRequest(http.MethodPost, "/api/snapshots?name=w.csv", b)
		req.Header.Set("Authorization", "Bearer s3cret")
		go func() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			codes <- w.Code
		}()
		<-b.reading
	}

	// Two uploads are being read: the third is turned away at once.
	req := httptest.NewRequest(http.MethodPost, "/api/snapshots?name=w.csv", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer s3cret")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), "too many uploads") {
		t.Errorf("third upload: %d Retry-After %q %s, want 429 with Retry-After", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if code, _ := post(t, h, "/api/snapshots?name=w.csv", "", "", body); code != http.StatusUnauthorized {
		t.Errorf("no token while full: %d, want 401 before any limit", code)
	}

	close(release)
	for range 2 {
		if code := <-codes; code != http.StatusAccepted {
			t.Errorf("held upload: %d, want 202", code)
		}
	}
	// Their slots are free again.
	if code, rec := post(t, h, "/api/snapshots?name=w.csv", "s3cret", "", body); code != http.StatusAccepted {
		t.Errorf("after the others finished: %d %+v, want 202", code, rec)
	}
	if kept := pending(t, st); len(kept) != 3 {
		t.Errorf("the inbox holds %d uploads, want 3", len(kept))
	}
}
