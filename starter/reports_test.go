package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/workflows"
)

// TestReadReport: the CLI reads the report the summary workflow stored
// from the store when it can open it, else through the worker's API with
// its token, and says how to get at it when it can do neither. A report
// from an older worker carries its parts.
func TestReadReport(t *testing.T) {
	ctx := context.Background()
	cfg, err := config.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	register := strings.Repeat("A-1001,critical,85\n", 150_000) // ~2.9 MB: more than a workflow result may carry
	ref := workflows.Report{ID: "report-1", Week: "2026-11-16"}

	// No store here, no token: nothing is created, and the error says what to set.
	if _, err := readReport(ctx, cfg, ref, store.ReportRegister); err == nil || !strings.Contains(err.Error(), "CHURNWATCH_TOKEN") {
		t.Fatalf("want advice on reading through the worker: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, store.FileName)); err == nil {
		t.Fatal("reading a report created a store on this machine")
	}

	// Through the API, as a manager.
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "text/csv")
		w.Write([]byte(register))
	}))
	defer srv.Close()
	api := cfg
	api.Server.URL, api.Token = srv.URL, testToken
	b, err := readReport(ctx, api, ref, store.ReportRegister)
	if err != nil || string(b) != register || got.URL.Path != "/api/reports/report-1" || got.URL.Query().Get("part") != store.ReportRegister {
		t.Fatalf("through the API: %d bytes, %v, asked %s", len(b), err, got.URL)
	}

	// From the store, which the worker shares with this machine.
	st, err := store.Open(ctx, "", cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SaveReport(ctx, store.Report{ID: "report-1", Week: "2026-11-16", Created: time.Now(),
		Parts: map[string][]byte{store.ReportRegister: []byte(register)}}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	got = nil
	if b, err := readReport(ctx, api, ref, store.ReportRegister); err != nil || string(b) != register || got != nil {
		t.Fatalf("from the store: %d bytes, %v (API asked: %v)", len(b), err, got != nil)
	}

	old := workflows.Report{Week: "2026-11-16", Markdown: "# Week of 2026-11-16"}
	if b, err := readReport(ctx, cfg, old, store.ReportSummaryMD); err != nil || string(b) != old.Markdown {
		t.Errorf("an older worker's report: %q %v", b, err)
	}
}
