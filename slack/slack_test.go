package slack_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/decision"
	"github.com/churnwatch/churnwatch/identity"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/slack"
	"github.com/churnwatch/churnwatch/slack/standin"
	"github.com/churnwatch/churnwatch/store"
)

const (
	botToken = "xoxb-test-token"
	secret   = "8f742231b10e8888abcd99yyyzzz85a5"
)

// fixture is a store with dana's review awaiting her decision, a Slack
// stand-in, and the config that points at it. These tests never reach
// Temporal: every path they take is refused or answered before the
// decision's Update (the worker's test decides for real).
type fixture struct {
	cfg   config.Config
	st    store.Store
	slack *standin.Server
	p     review.Packet
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, u := range []identity.User{
		{Name: "dana", Role: identity.CSM, Manager: "mia"},
		{Name: "marco", Role: identity.CSM},
		{Name: "gone", Role: identity.CSM, Disabled: true},
	} {
		if err := st.AddUser(ctx, u, ""); err != nil {
			t.Fatal(err)
		}
	}
	p := review.Packet{
		ReviewID: review.ID("A-1001", "2026-11-16"), AccountID: "A-1001", AccountName: "Acme <Corp> & Sons",
		Owner: "dana", Cycle: "2026-11-16", State: review.AwaitingApproval, Severity: risk.Critical,
		Event:      "crossed into critical (score 81, as of 2026-11-16; was watch 40 as of 2026-11-09)",
		Assessment: risk.Assessment{AccountID: "A-1001", Score: 81, Tier: risk.Critical},
		Draft:      &review.Draft{SuspectedCause: "the new VP froze the rollout"},
		CreatedAt:  time.Now(), UpdatedAt: time.Now(),
	}
	if err := st.SavePacket(ctx, p); err != nil {
		t.Fatal(err)
	}
	sl := standin.New(botToken)
	t.Cleanup(sl.Close)
	cfg, err := config.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTP.PublicURL = "https://churnwatch.example.com"
	// Lower case, as the config loader leaves map keys.
	cfg.Slack = config.Slack{BotToken: botToken, SigningSecret: secret, APIURL: sl.APIURL(),
		Users: map[string]string{"u0dana": "dana", "u0marco": "marco", "u0gone": "gone", "u0ghost": "nobody"}}
	return &fixture{cfg: cfg, st: st, slack: sl, p: p}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// post sends the flagged notice of the fixture's review and returns the
// message the stand-in received.
func (f *fixture) post(t *testing.T) standin.Call {
	t.Helper()
	n := review.Notice{ReviewID: f.p.ReviewID, To: "dana", Kind: review.EventFlagged, Message: "Acme is critical (score 81): the review brief and drafts are ready for your decision"}
	if err := slack.NewPoster(f.cfg, f.st, quiet()).Post(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	posts := f.slack.Calls("chat.postMessage")
	if len(posts) == 0 {
		t.Fatal("nothing was posted")
	}
	return posts[len(posts)-1]
}

func TestFlaggedNoticeIsTheReviewWithItsButtons(t *testing.T) {
	f := newFixture(t)
	m := f.post(t)
	if got := m.Form.Get("channel"); got != "U0DANA" {
		t.Errorf("posted to %q, want dana's Slack user U0DANA", got)
	}
	buttons := m.Buttons()
	if len(buttons) != 3 {
		t.Fatalf("buttons %+v, want Approve, Reject and Open", buttons)
	}
	want := []standin.Button{
		{ActionID: "approve", Text: "Approve", Value: f.p.ReviewID},
		{ActionID: "reject", Text: "Reject", Value: f.p.ReviewID},
		{ActionID: "open", Text: "Open", URL: "https://churnwatch.example.com/review/A-1001/2026-11-16"},
	}
	for i, w := range want {
		b := buttons[i]
		if b.ActionID != w.ActionID || b.Text != w.Text || (w.Value != "" && b.Value != w.Value) || b.URL != w.URL {
			t.Errorf("button %d = %+v, want %+v", i, b, w)
		}
	}
	blocks := texts(m.Blocks())
	for _, s := range []string{"Acme &lt;Corp&gt; &amp; Sons", "critical", "81 / 100", "crossed into critical", "the new VP froze the rollout"} {
		if !strings.Contains(blocks, s) {
			t.Errorf("the message lacks %q: %s", s, blocks)
		}
	}

	// A reminder is plain text; a notice to someone without Slack is not posted.
	p := slack.NewPoster(f.cfg, f.st, quiet())
	if err := p.Post(context.Background(), review.Notice{ReviewID: f.p.ReviewID, To: "dana", Kind: review.EventReminded, Message: "the decision is due in 4 hours"}); err != nil {
		t.Fatal(err)
	}
	if err := p.Post(context.Background(), review.Notice{ReviewID: f.p.ReviewID, To: "lee", Kind: review.EventEscalated, Message: "overdue"}); err != nil {
		t.Fatal(err)
	}
	posts := f.slack.Calls("chat.postMessage")
	if len(posts) != 2 {
		t.Fatalf("%d posts, want the review and the reminder to dana only", len(posts))
	}
	if r := posts[1]; r.Form.Get("blocks") != "" || !strings.Contains(r.Form.Get("text"), "the decision is due in 4 hours") {
		t.Errorf("reminder = %v, want plain text", r.Form)
	}
}

// texts joins every text a message's blocks show.
func texts(v any) string {
	switch v := v.(type) {
	case []map[string]any:
		var out []string
		for _, b := range v {
			out = append(out, texts(b))
		}
		return strings.Join(out, "\n")
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, texts(e))
		}
		return strings.Join(out, "\n")
	case map[string]any:
		var out []string
		for k, e := range v {
			if s, ok := e.(string); ok && k == "text" {
				out = append(out, s)
			} else {
				out = append(out, texts(e))
			}
		}
		return strings.Join(out, "\n")
	}
	return ""
}

func TestSlackRefusalIsNotRetried(t *testing.T) {
	f := newFixture(t)
	f.cfg.Slack.BotToken = "xoxb-revoked"
	n := review.Notice{ReviewID: f.p.ReviewID, To: "dana", Kind: review.EventReminded, Message: "due soon"}
	err := slack.NewPoster(f.cfg, f.st, quiet()).Post(context.Background(), n)
	if !errors.Is(err, slack.ErrRejected) || !strings.Contains(err.Error(), "invalid_auth") {
		t.Fatalf("err = %v, want ErrRejected with Slack's invalid_auth", err)
	}
}

// serve starts the interactions handler; the decision service has no
// Temporal client, so a request that got as far as deciding would fail.
func (f *fixture) serve(t *testing.T) string {
	t.Helper()
	d := &decision.Service{Store: f.st, Managers: map[string]string{}, Logger: quiet()}
	srv := httptest.NewServer(slack.NewHandler(f.cfg, d, f.st, quiet()))
	t.Cleanup(srv.Close)
	return srv.URL + "/slack/interactions"
}

func TestInteractionsAreSlacksOnly(t *testing.T) {
	f := newFixture(t)
	target := f.serve(t)
	m := f.post(t)
	// Reject opens the modal without deciding: it shows the signature is
	// accepted, so the refusals below are the checks' own.
	valid := standin.Sign(secret, f.slack.Click("U0DANA", m, "reject"), time.Now())
	if code, body, err := valid.Post(target); err != nil || code != http.StatusOK {
		t.Fatalf("valid request: %d %s %v", code, body, err)
	}
	if n := len(f.slack.Calls("views.open")); n != 1 {
		t.Fatalf("%d modals opened, want 1", n)
	}

	forged := standin.Sign("not-the-secret", f.slack.Click("U0DANA", m, "reject"), time.Now())
	tampered := valid
	tampered.Body = []byte(strings.Replace(string(valid.Body), "U0DANA", "U0MARCO", 1))
	stale := standin.Sign(secret, f.slack.Click("U0DANA", m, "reject"), time.Now().Add(-6*time.Minute))
	for name, sg := range map[string]standin.Signed{"forged": forged, "tampered": tampered, "stale": stale, "replayed": valid} {
		code, body, err := sg.Post(target)
		if err != nil || code != http.StatusUnauthorized {
			t.Errorf("%s request: %d %s %v, want 401", name, code, body, err)
		}
	}
	if n := len(f.slack.Calls("views.open")); n != 1 {
		t.Errorf("%d modals opened, want still 1", n)
	}
}

func TestInteractionsRefuseWhoMayNotDecide(t *testing.T) {
	f := newFixture(t)
	target := f.serve(t)
	m := f.post(t)
	for _, c := range []struct{ user, action, want string }{
		{"U0STRANGER", "approve", "not linked to a Churnwatch user"},
		{"U0GHOST", "approve", "linked to nobody, who is not a Churnwatch user"},
		{"U0GONE", "reject", "the Churnwatch user gone is disabled"},
		{"U0MARCO", "approve", "marco may not decide review review/A-1001/2026-11-16: it belongs to dana"},
		{"U0MARCO", "reject", "marco may not see review review/A-1001/2026-11-16: it belongs to dana"},
	} {
		click := f.slack.Click(c.user, m, c.action)
		if code, body, err := standin.Sign(secret, click, time.Now()).Post(target); err != nil || code != http.StatusOK {
			t.Fatalf("%s %s: %d %s %v", c.user, c.action, code, body, err)
		}
		var answer *standin.Call
		for _, r := range f.slack.Calls("response_url") {
			if strings.HasSuffix(click["response_url"].(string), r.Path) {
				answer = &r
			}
		}
		if answer == nil {
			t.Errorf("%s %s: no answer on the response_url", c.user, c.action)
			continue
		}
		if answer.JSON["response_type"] != "ephemeral" || !strings.Contains(answer.JSON["text"].(string), c.want) {
			t.Errorf("%s %s: answered %v, want an ephemeral %q", c.user, c.action, answer.JSON, c.want)
		}
	}
	if n := len(f.slack.Calls("views.open")) + len(f.slack.Calls("chat.update")); n != 0 {
		t.Errorf("%d modals or updates, want none", n)
	}
	p, err := f.st.Packet(context.Background(), f.p.ReviewID)
	if err != nil || p.Decision != nil || p.State != review.AwaitingApproval {
		t.Errorf("review after the refusals: %+v %v", p.Decision, err)
	}
	refused, err := f.st.Events(context.Background(), store.EventFilter{Kinds: []review.EventKind{review.EventRefused}})
	if err != nil || len(refused) != 5 {
		t.Errorf("%d refusals recorded (%v), want 5", len(refused), err)
	}
}
