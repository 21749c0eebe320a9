package fault

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/draft"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/store"
)

// loopback is an HTTP server on a fixed loopback port that can be stopped
// (the port then refuses connections, as a service that is down does) and
// started again on the same port.
type loopback struct {
	addr    string
	handler http.Handler
	srv     *http.Server
}

func newLoopback(t *testing.T, h http.Handler) *loopback {
	l := &loopback{addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), handler: h}
	t.Cleanup(l.stop)
	return l
}

func (l *loopback) start(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", l.addr)
	if err != nil {
		t.Fatalf("listen on %s again: %v", l.addr, err)
	}
	l.srv = &http.Server{Handler: l.handler}
	go l.srv.Serve(ln)
}

func (l *loopback) stop() {
	if l.srv != nil {
		l.srv.Close()
		l.srv = nil
	}
}

// webhookRecorder counts the notices a team-chat webhook receives, by
// their Idempotency-Key.
type webhookRecorder struct {
	mu       sync.Mutex
	received map[string]int
}

func (h *webhookRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	h.mu.Lock()
	h.received[r.Header.Get("Idempotency-Key")]++
	h.mu.Unlock()
	io.WriteString(w, "ok")
}

// llmStandIn speaks OpenAI's chat completions protocol and answers each
// review's request with a draft that passes Churnwatch's validator: the
// offline drafter's draft of the same assessment (scored by the test from
// the same file), in the model's JSON answer format. Unlike the worker
// tests' misbehaving endpoint, its answers are used, so a review drafted
// by it says "llm:" and proves the LLM path came back.
type llmStandIn struct {
	assessed map[string]risk.Assessment
	mu       sync.Mutex
	requests map[string]int // by review ID
}

var reviewIDRE = regexp.MustCompile(`review/([A-Za-z0-9._-]+)/(\d{4}-\d{2}-\d{2})`)

func (s *llmStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	m := reviewIDRE.FindSubmatch(body)
	if r.URL.Path != "/v1/chat/completions" || m == nil {
		http.Error(w, `{"error":{"message":"no review in the request","type":"invalid_request_error"}}`, http.StatusBadRequest)
		return
	}
	id := review.ID(string(m[1]), string(m[2]))
	s.mu.Lock()
	s.requests[id]++
	s.mu.Unlock()
	a, ok := s.assessed[string(m[1])]
	if !ok {
		http.Error(w, `{"error":{"message":"unknown account","type":"invalid_request_error"}}`, http.StatusBadRequest)
		return
	}
	// The priority is the account's rank in the worker's queue, which the
	// test's scoring of the file does not know: leave it out of the brief.
	a.Priority = 0
	d, err := draft.NewOffline().Draft(r.Context(), draft.Request{ReviewID: id, Assessment: a})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	content, _ := json.Marshal(modelAnswer(d))
	resp, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-fault", "object": "chat.completion", "created": time.Now().Unix(), "model": "fault-model",
		"choices": []map[string]any{{"index": 0, "finish_reason": "stop",
			"message": map[string]string{"role": "assistant", "content": string(content)}}},
		"usage": map[string]int{"prompt_tokens": 900, "completion_tokens": 400, "total_tokens": 1300},
	})
	w.Header().Set("Content-Type", "application/json")
	w.Write(resp)
}

// maxAgenda is the most call agenda items the draft schema takes from a
// model (the offline drafter may write more).
const maxAgenda = 8

// modelAnswer is d as the model's JSON answer (prompts' draft schema:
// every field required, nothing else).
func modelAnswer(d review.Draft) map[string]any {
	steps := []map[string]any{}
	for _, s := range d.SavePlan {
		steps = append(steps, map[string]any{"day": s.Day, "action": s.Action, "owner": s.Owner,
			"talking_points": append([]string{}, s.TalkingPoints...), "evidence_ids": append([]string{}, s.EvidenceIDs...)})
	}
	return map[string]any{
		"brief": d.Brief, "brief_citations": append([]string{}, d.BriefCitations...), "suspected_cause": d.SuspectedCause,
		"save_plan": steps, "outreach": map[string]string{"subject": d.Outreach.Subject, "body": d.Outreach.Body},
		"call_agenda": append([]string{}, d.CallAgenda[:min(len(d.CallAgenda), maxAgenda)]...),
	}
}

// TestFaultWebhookAndLLMDownThenBack starts the worker with its LLM and
// its team-chat webhook both down (their ports refuse connections). The
// reviews wait in drafting, retrying the LLM, and come to the gate with
// the LLM's drafts once it is back; the notices wait in the outbox and,
// once the webhook is back, each arrives there exactly once.
func TestFaultWebhookAndLLMDownThenBack(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	row := track(t, "webhook and LLM down, then back (embedded Temporal, SQLite)",
		"reviews wait in drafting while the LLM is down and reach the gate with the LLM's drafts once it is back, one drafted event each; every notice pending meanwhile is delivered once the webhook is back, each received exactly once")
	e := newEnv(t)
	b := newBook(t, bookOptions(2000, 8, false))
	hook := &webhookRecorder{received: map[string]int{}}
	llm := &llmStandIn{assessed: b.assessed, requests: map[string]int{}}
	hookSrv, llmSrv := newLoopback(t, hook), newLoopback(t, llm)
	e.set("CHURNWATCH_NOTIFY_WEBHOOK_URL", "http://"+hookSrv.addr+"/hook")
	e.set("CHURNWATCH_LLM_BASE_URL", "http://"+llmSrv.addr+"/v1")
	e.set("CHURNWATCH_LLM_MODEL", "fault-model")
	e.set("CHURNWATCH_LLM_API_KEY", "sk-fault")
	e.set("CHURNWATCH_LLM_TIMEOUT", "10s")
	e.set("CHURNWATCH_LLM_REQUESTS_PER_MINUTE", "60000")
	startWorker(t, e)
	st := openStore(t, e)

	res := scan(t, e, []string{b.path})
	if res.StartedCount != len(b.flagged) {
		t.Fatalf("the scan started %d reviews; the model flags %d", res.StartedCount, len(b.flagged))
	}
	// The LLM is down: every review waits in drafting, none falls back.
	waitFor(t, time.Minute, "every review in drafting", func() bool { return countState(t, st, review.Drafting) == len(b.flagged) })
	time.Sleep(5 * time.Second) // the outage's length, not an assertion
	if n := countState(t, st, review.AwaitingApproval); n != 0 {
		t.Fatalf("%d reviews reached the gate while the LLM was down", n)
	}
	llmSrv.start(t)
	downAt := time.Now()
	awaitGate(t, st, res.AsOf, b.flagged, 4*time.Minute)
	gate := time.Since(downAt)
	packets, err := st.Packets(ctx(t), store.PacketFilter{Cycle: res.AsOf})
	if err != nil {
		t.Fatal(err)
	}
	byLLM := 0
	for _, p := range packets {
		if p.Draft != nil && p.Draft.Drafter == "llm:fault-model" {
			byLLM++
		} else if p.Draft != nil {
			t.Errorf("%s drafted by %s (%v); want the LLM's draft once it is back", p.ReviewID, p.Draft.Drafter, p.Draft.Notes)
		}
	}

	notices, delivered := webhookBack(t, st, hookSrv, hook, len(b.flagged))
	llm.mu.Lock()
	defer llm.mu.Unlock()
	row.figure = fmt.Sprintf("%d reviews: at the gate %s after the LLM came back, %d drafted by it (%d requests); %d notices delivered %s after the webhook came back",
		len(b.flagged), gate.Round(time.Second), byLLM, sumValues(llm.requests), notices, delivered.Round(time.Second))
}

// webhookBack waits until at least want notices wait in the outbox, each
// after a failed attempt at the webhook that is down, then starts the
// webhook and checks that every notice in the outbox is delivered, each
// received exactly once. It returns how many and how long after the
// webhook came back the last was delivered.
func webhookBack(t *testing.T, st store.Store, srv *loopback, hook *webhookRecorder, want int) (int, time.Duration) {
	t.Helper()
	waitFor(t, 2*time.Minute, "a failed attempt at every pending notice", func() bool {
		pending, err := st.Notices(ctx(t), store.NoticeFilter{State: store.NoticePending})
		if err != nil || len(pending) < want {
			return false
		}
		for _, n := range pending {
			if n.Attempts == 0 {
				return false
			}
		}
		return true
	})
	srv.start(t)
	backAt := time.Now()
	// The drainer's retry waits 30 s after the first failure, then doubles.
	waitFor(t, 5*time.Minute, "every notice delivered", func() bool {
		left, err := st.Notices(ctx(t), store.NoticeFilter{State: store.NoticePending})
		return err == nil && len(left) == 0
	})
	delivered := time.Since(backAt)
	all, err := st.Notices(ctx(t), store.NoticeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	// A doubled post would arrive just after the first: let the drainer run on.
	time.Sleep(2 * time.Second)
	hook.mu.Lock()
	defer hook.mu.Unlock()
	for _, n := range all {
		if n.State != store.NoticeSent || hook.received[n.Key] != 1 {
			t.Errorf("notice %s (%s to %s): %s, received %d times; want sent, once", n.Key, n.Kind, n.To, n.State, hook.received[n.Key])
		}
	}
	if len(hook.received) != len(all) {
		t.Errorf("the webhook received %d notices, the outbox holds %d", len(hook.received), len(all))
	}
	return len(all), delivered
}

func sumValues(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
