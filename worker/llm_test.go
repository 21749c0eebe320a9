package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/snapshot"
)

// fakeLLM speaks the OpenAI chat-completions protocol on loopback and
// misbehaves the way real endpoints do: a 500 for one account, well-formed
// responses with garbage content for the rest.
type fakeLLM struct {
	mu     sync.Mutex
	paths  []string
	bodies []string
}

func (f *fakeLLM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.paths = append(f.paths, r.URL.Path)
	f.bodies = append(f.bodies, string(body))
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if strings.Contains(string(body), "A-1001") {
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"error":{"message":"upstream overloaded","type":"server_error"}}`)
		return
	}
	io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1763300000,"model":"test-model",
"choices":[{"index":0,"message":{"role":"assistant","content":"Sure! Here is the brief: {not json"},"finish_reason":"stop"}],
"usage":{"prompt_tokens":900,"completion_tokens":40,"total_tokens":940}}`)
}

// TestLLMFailuresStillReachTheGate points the worker at a misbehaving
// OpenAI-compatible server: every review still reaches awaiting_approval
// with a complete offline draft that says why, and no email address or
// phone number from the CRM notes leaves the process.
func TestLLMFailuresStillReachTheGate(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out the LLM activity's retries")
	}
	llm := &fakeLLM{}
	srv := httptest.NewServer(llm)
	defer srv.Close()

	// The sample book, with contact details in A-1001's latest note.
	batch, err := snapshot.ReadFiles([]string{examplePath(t)})
	if err != nil {
		t.Fatal(err)
	}
	const email, phone = "karen.ruiz@northwind-freight.example", "+1 415 555 0199"
	var latest time.Time
	for _, r := range batch.Rows {
		if r.Week.After(latest) {
			latest = r.Week
		}
	}
	for i, r := range batch.Rows {
		if r.AccountID == "A-1001" && r.Week.Equal(latest) {
			batch.Rows[i].Notes = "Sponsor unreachable; escalate via " + email + " or " + phone
		}
	}
	input := filepath.Join(t.TempDir(), "book.csv")
	f, err := os.Create(input)
	if err != nil {
		t.Fatal(err)
	}
	if err := snapshot.WriteCSV(f, batch.Rows); err != nil {
		t.Fatal(err)
	}
	f.Close()

	cfg := testConfig(t, t.TempDir())
	cfg.LLM.BaseURL = srv.URL + "/v1"
	cfg.LLM.Model = "test-model"
	cfg.LLM.APIKey = "sk-test"
	cfg.LLM.Timeout = 5 * time.Second
	cfg.LLM.RequestsPerMinute = 6000
	c := startWorker(t, cfg)

	res := scan(t, c, cfg, input)
	if len(res.Started) == 0 {
		t.Fatal("no review started")
	}
	for _, cand := range res.Started {
		id := review.ID(cand.AccountID, res.AsOf)
		var p review.Packet
		waitForWithin(t, 3*time.Minute, "drafts of "+id, func() bool {
			p = queryPacket(t, c, id)
			return p.Draft != nil
		})
		if p.State != review.AwaitingApproval {
			t.Errorf("%s: state %s, want awaiting_approval", id, p.State)
		}
		d := p.Draft
		if d.Drafter != "offline" || d.Brief == "" || d.Outreach.Body == "" || len(d.SavePlan) == 0 {
			t.Errorf("%s: incomplete fallback draft: %+v", id, d)
		}
		if len(d.Notes) == 0 || !strings.Contains(strings.ToLower(strings.Join(d.Notes, " ")), "llm") {
			t.Errorf("%s: the fallback does not say why: %v", id, d.Notes)
		}
	}

	llm.mu.Lock()
	defer llm.mu.Unlock()
	if len(llm.bodies) == 0 {
		t.Fatal("no request reached the LLM server")
	}
	emailRE := regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
	sawA1001 := false
	for i, body := range llm.bodies {
		if llm.paths[i] != "/v1/chat/completions" {
			t.Errorf("request went to %s", llm.paths[i])
		}
		if !strings.Contains(body, `"model":"test-model"`) {
			t.Errorf("request without the configured model: %.200s", body)
		}
		if m := emailRE.FindString(body); m != "" {
			t.Errorf("an email address left the process: %s", m)
		}
		if strings.Contains(body, "415 555 0199") {
			t.Error("a phone number left the process")
		}
		sawA1001 = sawA1001 || strings.Contains(body, "A-1001")
	}
	if !sawA1001 {
		t.Error("A-1001 was never sent to the LLM, so its redaction was not exercised")
	}
	if *recordHistories {
		// A-1001's drafting failed on every attempt and fell back offline.
		writeHistory(t, c, review.ID("A-1001", res.AsOf), "../workflows/testdata/review_llm_fallback.json")
	}
}
