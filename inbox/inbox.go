// Package inbox takes snapshot files pushed over HTTP, for the systems that
// export a team's weekly snapshots (a warehouse job, a CRM sync): POST the
// file to /api/snapshots and it is checked row by row, kept in the store's
// inbox, which the weekly scheduled scan reads (each upload once), and, on
// request, scanned at once.
//
// The endpoint writes, so it needs a bearer token (http.api_token); without
// one configured the worker does not serve it.
package inbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
	"github.com/churnwatch/churnwatch/store"
)

// Handler serves POST /api/snapshots.
type Handler struct {
	// Store keeps the uploads: the store's inbox, which every replica and
	// the scheduled scan read.
	Store    store.Inbox
	Token    string // the bearer token a request must carry; never empty
	MaxBytes int64  // the largest body taken
	// StartScan scans the inbox now (this upload and any still pending
	// before it, so that the newest upload stands) and returns the scan's
	// workflow ID; nil when the worker cannot (then ?scan=now is refused).
	StartScan func(ctx context.Context) (string, error)
	Logger    *slog.Logger
	// MaxConcurrent bounds the uploads read at once (DefaultMaxConcurrent
	// when 0): each holds its body, up to MaxBytes, in memory, so a burst
	// of pushes must not add up to more than the worker has. The next
	// answers 429 with Retry-After.
	MaxConcurrent int

	slotsOnce sync.Once
	slots     chan struct{}
}

// DefaultMaxConcurrent is how many uploads are read at once unless
// MaxConcurrent says otherwise.
const DefaultMaxConcurrent = 4

// acquire takes an upload slot without waiting, or reports that none is free.
func (h *Handler) acquire() bool {
	h.slotsOnce.Do(func() {
		n := h.MaxConcurrent
		if n <= 0 {
			n = DefaultMaxConcurrent
		}
		h.slots = make(chan struct{}, n)
	})
	select {
	case h.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (h *Handler) release() { <-h.slots }

// Receipt is the answer to an upload.
type Receipt struct {
	Upload   string               `json:"upload"` // the upload's ID in the inbox
	Rows     int                  `json:"rows"`   // valid rows
	Accounts int                  `json:"accounts"`
	Rejected []snapshot.Rejection `json:"rejected"`
	Warnings []string             `json:"warnings"`
	ScanID   string               `json:"scan_id,omitempty"`
	Error    string               `json:"error,omitempty"`
}

var safeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$`)

// ServeHTTP checks the token, reads the body (up to MaxBytes) as the
// snapshot file named by ?name= (its extension gives the format; without a
// name, the Content-Type does), reports every rejected row, and keeps the
// file in the store's inbox when at least one row is valid. ?scan=now also
// starts a scan of the inbox.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="churnwatch"`)
		h.answer(w, http.StatusUnauthorized, Receipt{Error: "a bearer token (http.api_token) is required"})
		return
	}
	name, err := fileName(r)
	if err != nil {
		h.answer(w, http.StatusBadRequest, Receipt{Error: err.Error()})
		return
	}
	scanNow := r.URL.Query().Get("scan") == "now"
	if scanNow && h.StartScan == nil {
		h.answer(w, http.StatusBadRequest, Receipt{Error: "this worker cannot start scans"})
		return
	}

	if !h.acquire() {
		w.Header().Set("Retry-After", "5")
		h.answer(w, http.StatusTooManyRequests, Receipt{Error: "too many uploads at once; try again shortly"})
		return
	}
	defer h.release()

	var body bytes.Buffer
	_, err = io.Copy(&body, http.MaxBytesReader(w, r.Body, h.MaxBytes))
	if tooLarge := new(http.MaxBytesError); errors.As(err, &tooLarge) {
		h.answer(w, http.StatusRequestEntityTooLarge, Receipt{Error: fmt.Sprintf("the body is over %d bytes (http.max_upload_mb)", h.MaxBytes)})
		return
	}
	if err != nil {
		h.answer(w, http.StatusBadRequest, Receipt{Error: "read the body: " + err.Error()})
		return
	}
	batch, err := snapshot.Read(bytes.NewReader(body.Bytes()), name)
	rec := Receipt{Rows: len(batch.Rows), Accounts: countAccounts(batch.Rows), Rejected: batch.Rejected, Warnings: batch.Warnings}
	if rec.Rejected == nil {
		rec.Rejected = []snapshot.Rejection{}
	}
	if rec.Warnings == nil {
		rec.Warnings = []string{}
	}
	switch {
	case err != nil:
		rec.Error = err.Error()
		h.answer(w, http.StatusUnprocessableEntity, rec)
		return
	case rec.Rows == 0:
		rec.Error = "no valid row: nothing was kept"
		h.answer(w, http.StatusUnprocessableEntity, rec)
		return
	}

	id := newUploadID()
	if _, err := h.Store.AddUpload(r.Context(), store.Upload{ID: id, Name: name, UploadedAt: time.Now().UTC(), Content: body.Bytes()}); err != nil {
		h.fail(w, fmt.Errorf("keep upload: %w", err))
		return
	}
	rec.Upload = id
	if scanNow {
		scan, err := h.StartScan(r.Context())
		if err != nil {
			rec.Error = "kept, but the scan did not start: " + err.Error()
			h.answer(w, http.StatusBadGateway, rec)
			return
		}
		rec.ScanID = scan
	}
	h.log().Info("snapshots received", "upload", id, "name", name, "bytes", body.Len(), "rows", rec.Rows, "rejected", len(rec.Rejected), "scan_id", rec.ScanID)
	h.answer(w, http.StatusAccepted, rec)
}

// newUploadID names an upload: when it came, then random letters, so IDs
// sort by arrival and never collide between replicas.
func newUploadID() string {
	return "upload-" + time.Now().UTC().Format("20060102T150405.000000Z") + "-" + strings.ToLower(rand.Text()[:10])
}

func (h *Handler) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && h.Token != "" && subtle.ConstantTimeCompare([]byte(got), []byte(h.Token)) == 1
}

// fileName is the upload's name: ?name=, or one made from the
// Content-Type. It must end in a snapshot extension and hold no path.
func fileName(r *http.Request) (string, error) {
	name := r.URL.Query().Get("name")
	if name == "" {
		ct := strings.ToLower(strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0]))
		switch ct {
		case "text/csv":
			name = "snapshots.csv"
		case "application/json":
			name = "snapshots.json"
		case "application/x-ndjson", "application/jsonl":
			name = "snapshots.ndjson"
		default:
			return "", fmt.Errorf("say what the body is: ?name=FILE.csv|.json|.ndjson, or Content-Type text/csv, application/json or application/x-ndjson (got %q)", ct)
		}
	}
	if !safeName.MatchString(name) {
		return "", fmt.Errorf("name %q: letters, digits, '.', '_' and '-' only, no path", name)
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv", ".json", ".ndjson", ".jsonl":
		return name, nil
	}
	return "", fmt.Errorf("name %q: the extension must be .csv, .json, .ndjson or .jsonl", name)
}

func countAccounts(rows []snapshot.Snapshot) int {
	seen := map[string]bool{}
	for _, r := range rows {
		seen[r.AccountID] = true
	}
	return len(seen)
}

func (h *Handler) answer(w http.ResponseWriter, code int, rec Receipt) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(rec)
}

func (h *Handler) fail(w http.ResponseWriter, err error) {
	h.log().Error("snapshot upload", "error", err)
	h.answer(w, http.StatusInternalServerError, Receipt{Error: "the upload could not be kept; see the worker log"})
}

func (h *Handler) log() *slog.Logger {
	if h.Logger == nil {
		return slog.Default()
	}
	return h.Logger
}
