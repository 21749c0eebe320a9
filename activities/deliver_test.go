package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/slack"
	"github.com/churnwatch/churnwatch/slack/standin"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/webhook"
)

// hook is a loopback chat webhook that records what it receives and
// answers with status.
type hook struct {
	mu       sync.Mutex
	status   int
	received []webhook.Message
	keys     []string
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var m webhook.Message
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.received = append(h.received, m)
	h.keys = append(h.keys, r.Header.Get("Idempotency-Key"))
	w.WriteHeader(cmpStatus(h.status))
}

func cmpStatus(s int) int {
	if s == 0 {
		return http.StatusOK
	}
	return s
}

func (h *hook) set(status int) {
	h.mu.Lock()
	h.status = status
	h.mu.Unlock()
}

// byKey counts the notices received per key.
func (h *hook) byKey() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]int{}
	for _, m := range h.received {
		out[m.Key]++
	}
	return out
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// queue appends n notices for review A-1 to the outbox, as Notify does.
func queue(t *testing.T, a *testActivities, n int) []string {
	t.Helper()
	var keys []string
	for i := range n {
		key := fmt.Sprintf("review/A-1/2026-11-16/run/%d", i)
		no := store.OutboxNotice{Key: key, Notice: review.Notice{ReviewID: "review/A-1/2026-11-16", To: "maria", Kind: review.EventReminded,
			Message: fmt.Sprint("reminder ", i)}, Created: time.Now()}
		if _, err := a.Store.AddNotice(context.Background(), no); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
	}
	return keys
}

func notices(t *testing.T, st store.Store, state store.NoticeState) []store.OutboxNotice {
	t.Helper()
	ns, err := st.Notices(context.Background(), store.NoticeFilter{State: state})
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// drain delivers until nothing is due, as the worker's drainer does.
func drain(t *testing.T, d *Deliverer) {
	t.Helper()
	for {
		n, err := d.DeliverDue(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 && len(notices(t, d.acts.Store, store.NoticePending)) == 0 {
			return
		}
	}
}

// TestNotifyReturnsWithoutTheNetwork: with the webhook and the mail server
// down, Notify appends the notice to the outbox and returns without
// touching it; the notice waits there. (A retry of the activity appends
// nothing: the key is the store's, see store.TestSQLiteOutbox.)
func TestNotifyReturnsWithoutTheNetwork(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var dialled atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			dialled.Add(1)
			defer c.Close() // silent: a black-holed webhook
		}
	}()
	a, env := newActivities(t)
	a.Webhook = &webhook.Poster{URL: "http://" + l.Addr().String() + "/hook"}
	n := review.Notice{ReviewID: "review/A-1/2026-11-16", To: "maria", Kind: review.EventEscalated, Message: "undecided past SLA"}
	if _, err := env.ExecuteActivity("Notify", n); err != nil {
		t.Fatal(err)
	}
	got := notices(t, a.Store, "")
	if len(got) != 1 || got[0].Notice != n || got[0].State != store.NoticePending || got[0].Attempts != 0 || got[0].Key == "" {
		t.Fatalf("outbox holds %+v, want the one notice pending", got)
	}
	if dialled.Load() != 0 {
		t.Errorf("Notify dialled the webhook %d times", dialled.Load())
	}
}

// TestDeliverOnceAcrossRacingDrainers: two drainers, each with its own
// handle on one store as two worker replicas have, drain 40 notices at
// once; the webhook gets each exactly once.
func TestDeliverOnceAcrossRacingDrainers(t *testing.T) {
	h := &hook{}
	srv := httptest.NewServer(h)
	defer srv.Close()
	a, _ := newActivities(t)
	keys := queue(t, a, 40)
	other, err := store.Open(context.Background(), "", a.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	b := &NotifyActivities{Store: other}
	var ds []*Deliverer
	for _, acts := range []*NotifyActivities{a.NotifyActivities, b} {
		acts.Webhook = &webhook.Poster{URL: srv.URL}
		d := NewDeliverer(acts)
		d.Batch = 3
		ds = append(ds, d)
	}
	var wg sync.WaitGroup
	for _, d := range ds {
		wg.Go(func() { drain(t, d) })
	}
	wg.Wait()
	got := h.byKey()
	for _, k := range keys {
		if got[k] != 1 {
			t.Errorf("%s received %d times, want once", k, got[k])
		}
	}
	if sent := notices(t, a.Store, store.NoticeSent); len(sent) != len(keys) {
		t.Errorf("%d of %d notices sent", len(sent), len(keys))
	}
}

// TestDeliverRetriesWithBackoffThenFails: a webhook that keeps answering
// 503 is retried, the wait doubling from FirstRetry, and after
// MaxAttempts the notice is failed, with the reason, and left alone.
func TestDeliverRetriesWithBackoffThenFails(t *testing.T) {
	h := &hook{status: http.StatusServiceUnavailable}
	srv := httptest.NewServer(h)
	defer srv.Close()
	a, _ := newActivities(t)
	a.Webhook = &webhook.Poster{URL: srv.URL}
	queue(t, a, 1)
	d := NewDeliverer(a.NotifyActivities)
	d.FirstRetry = time.Hour

	before := time.Now()
	if _, err := d.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	p := notices(t, a.Store, store.NoticePending)
	if len(p) != 1 || p[0].Attempts != 1 || !strings.Contains(p[0].LastError, "503") ||
		p[0].NextAttempt.Before(before.Add(time.Hour)) || p[0].NextAttempt.After(after.Add(time.Hour)) {
		t.Fatalf("after one 503: %+v; want pending, due an hour later", p)
	}
	if n, _ := d.DeliverDue(context.Background()); n != 0 {
		t.Fatalf("claimed %d notices before their next attempt", n)
	}
	for i, want := range []time.Duration{time.Hour, 2 * time.Hour, 4 * time.Hour, 64 * time.Hour} {
		if got := d.backoff([]int{1, 2, 3, 7}[i]); got != want {
			t.Errorf("backoff after attempt %d: %s, want %s", []int{1, 2, 3, 7}[i], got, want)
		}
	}
	var total time.Duration
	for k := 1; k < DefaultNoticeAttempts; k++ {
		total += NewDeliverer(a.NotifyActivities).backoff(k)
	}
	if total < 50*time.Minute || total > 70*time.Minute {
		t.Errorf("the default retries span %s, want about an hour", total)
	}

	// Without the waits, a second notice goes through all its attempts.
	a2, _ := newActivities(t)
	a2.Webhook = a.Webhook
	queue(t, a2, 1)
	d2 := NewDeliverer(a2.NotifyActivities)
	d2.FirstRetry = time.Microsecond
	drain(t, d2)
	f := notices(t, a2.Store, store.NoticeFailed)
	if len(f) != 1 || f[0].Attempts != DefaultNoticeAttempts || !strings.Contains(f[0].LastError, "gave up after 8 attempts") {
		t.Fatalf("after the bound: %+v", f)
	}
	// The first notice was tried once, the second 8 times (same key).
	if got := h.byKey(); got[f[0].Key] != 1+DefaultNoticeAttempts {
		t.Errorf("the webhook was tried %d times, want %d", got[f[0].Key], 1+DefaultNoticeAttempts)
	}
	if n, _ := d2.DeliverDue(context.Background()); n != 0 {
		t.Errorf("a failed notice was claimed again")
	}
}

// TestDeliverRefusalsFailAtOnce: answers no retry can change fail the
// notice on the first attempt: a webhook's 404, Slack's invalid_auth.
func TestDeliverRefusalsFailAtOnce(t *testing.T) {
	h := &hook{status: http.StatusNotFound}
	srv := httptest.NewServer(h)
	defer srv.Close()
	sl := standin.New("xoxb-right")
	defer sl.Close()
	a, _ := newActivities(t)
	a.Webhook = &webhook.Poster{URL: srv.URL}
	a.Slack = slack.NewPoster(config.Config{Slack: config.Slack{BotToken: "xoxb-revoked", APIURL: sl.APIURL(), Users: map[string]string{"u0maria": "maria"}}}, a.Store, nil)
	queue(t, a, 1)
	d := NewDeliverer(a.NotifyActivities)
	d.FirstRetry = time.Microsecond
	drain(t, d)
	f := notices(t, a.Store, store.NoticeFailed)
	if len(f) != 1 || f[0].Attempts != 1 || f[0].Channels["webhook"] != store.ChannelRefused || f[0].Channels["slack"] != store.ChannelRefused ||
		!strings.Contains(f[0].LastError, "404") || !strings.Contains(f[0].LastError, "invalid_auth") {
		t.Fatalf("refused notice: %+v", f)
	}
}

// TestDeliverAfterTheWebhookComesBack: a notice queued while the webhook
// is down stays pending and goes out once it is back; Slack, which took
// it on the first attempt, does not get it twice.
func TestDeliverAfterTheWebhookComesBack(t *testing.T) {
	addr := closedPort(t)
	sl := standin.New("xoxb-ok")
	defer sl.Close()
	a, _ := newActivities(t)
	a.Webhook = &webhook.Poster{URL: "http://" + addr + "/hook"}
	a.Slack = slack.NewPoster(config.Config{Slack: config.Slack{BotToken: "xoxb-ok", APIURL: sl.APIURL(), Users: map[string]string{"u0maria": "maria"}}}, a.Store, nil)
	keys := queue(t, a, 1)
	d := NewDeliverer(a.NotifyActivities)
	d.FirstRetry = time.Microsecond
	if _, err := d.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	p := notices(t, a.Store, store.NoticePending)
	if len(p) != 1 || p[0].Channels["slack"] != store.ChannelDone || p[0].Channels["webhook"] != "" || !strings.Contains(p[0].LastError, "refused") {
		t.Fatalf("with the webhook down: %+v", p)
	}

	h := &hook{}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: h}}
	srv.Start()
	defer srv.Close()
	drain(t, d)
	if got := h.byKey(); len(got) != 1 || got[keys[0]] != 1 {
		t.Errorf("the webhook received %v, want %s once", got, keys[0])
	}
	if n := len(sl.Calls("chat.postMessage")); n != 1 {
		t.Errorf("Slack received the notice %d times, want once", n)
	}
	if s := notices(t, a.Store, store.NoticeSent); len(s) != 1 || s[0].Attempts != 2 {
		t.Errorf("sent: %+v", s)
	}
}

// TestDelivererWakesOnNotify: the drainer, idle with a long poll, delivers
// a notice as soon as Notify queues it.
func TestDelivererWakesOnNotify(t *testing.T) {
	h := &hook{}
	srv := httptest.NewServer(h)
	defer srv.Close()
	a, env := newActivities(t)
	a.Webhook = &webhook.Poster{URL: srv.URL}
	d := NewDeliverer(a.NotifyActivities)
	d.Poll = time.Hour
	a.Deliverer = d
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	// A first notice, queued by hand, shows Run has made a pass and gone idle.
	queue(t, a, 1)
	d.Wake()
	for len(h.byKey()) == 0 {
		time.Sleep(10 * time.Millisecond) // fails by the test's timeout if Run never delivers
	}
	n := review.Notice{ReviewID: "review/A-1/2026-11-16", To: "maria", Kind: review.EventFlagged, Message: "drafts ready"}
	if _, err := env.ExecuteActivity("Notify", n); err != nil {
		t.Fatal(err)
	}
	for len(h.byKey()) < 2 {
		time.Sleep(10 * time.Millisecond) // fails by the test's timeout if the wake-up is lost
	}
}
