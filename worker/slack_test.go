package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/slack/standin"
)

// TestSlackDecisions runs a real worker on the embedded server with Slack
// pointed at a loopback stand-in: the flagged notices reach the owners'
// direct messages with the review's buttons, and the button presses,
// signed as Slack signs them, decide as the mapped user through the same
// decision service as the pages, or are refused with nothing changed.
func TestSlackDecisions(t *testing.T) {
	const secret = "d2f9b1c0ffee4a7e9b3c5d7f1a2b4c6e"
	sl := standin.New("xoxb-worker-test")
	t.Cleanup(sl.Close)
	cfg := testConfig(t, t.TempDir())
	cfg.HTTP.PublicURL = "http://" + cfg.HTTP.Addr
	cfg.Slack = config.Slack{BotToken: "xoxb-worker-test", SigningSecret: secret, APIURL: sl.APIURL(),
		Users: map[string]string{"u0dana": "dana", "u0marco": "marco"}}
	tm := addTeam(t, cfg)
	c := startWorker(t, cfg)
	byOwner := awaitingReviews(t, cfg, tm, scan(t, c, cfg, examplePath(t)))
	if len(byOwner["dana"]) < 2 {
		t.Fatalf("want two reviews of dana's, got %v", byOwner)
	}
	first, second := byOwner["dana"][0], byOwner["dana"][1]
	target := "http://" + cfg.HTTP.Addr + "/slack/interactions"

	// Each owner with a Slack user gets each review as a message with its
	// three buttons; the others get nothing.
	messages := map[string]standin.Call{}
	waitFor(t, "the review messages in Slack", func() bool {
		for _, m := range sl.Calls("chat.postMessage") {
			if b := m.Buttons(); len(b) > 0 {
				messages[b[0].Value] = m
			}
		}
		return len(messages) == len(byOwner["dana"])+len(byOwner["marco"])
	})
	for id, m := range messages {
		p, err := tm.st.Packet(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		b := m.Buttons()
		if want := "U0" + strings.ToUpper(p.Owner); m.Form.Get("channel") != want || len(b) != 3 ||
			b[0].ActionID != "approve" || b[1].ActionID != "reject" || b[2].URL != cfg.HTTP.PublicURL+review.PagePath(id) {
			t.Errorf("message of %s (owner %s) to %s: buttons %+v", id, p.Owner, m.Form.Get("channel"), b)
		}
	}
	decided := func(id string) *review.Decision {
		t.Helper()
		p, err := tm.st.Packet(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return p.Decision
	}
	send := func(what string, sg standin.Signed, want int) string {
		t.Helper()
		code, body, err := sg.Post(target)
		if err != nil || code != want {
			t.Fatalf("%s: %d %s %v, want %d", what, code, body, err, want)
		}
		return body
	}
	answers := func(click map[string]any) []standin.Call {
		var out []standin.Call
		for _, r := range sl.Calls("response_url") {
			if strings.HasSuffix(click["response_url"].(string), r.Path) {
				out = append(out, r)
			}
		}
		return out
	}

	// marco may not decide dana's review: the 403 reaches him.
	click := sl.Click("U0MARCO", messages[first], "approve")
	send("marco approving dana's review", standin.Sign(secret, click, time.Now()), http.StatusOK)
	if a := answers(click); len(a) != 1 || !strings.Contains(a[0].JSON["text"].(string), "marco may not decide review "+first) {
		t.Errorf("marco was answered %+v", a)
	}
	// A forged signature is refused before anything is read.
	send("forged approval", standin.Sign("not-the-secret", sl.Click("U0DANA", messages[first], "approve"), time.Now()), http.StatusUnauthorized)
	if d := decided(first); d != nil {
		t.Fatalf("%s was decided by a refused request: %+v", first, d)
	}

	// dana approves: decided as dana, and the message says so.
	click = sl.Click("U0DANA", messages[first], "approve")
	approve := standin.Sign(secret, click, time.Now())
	send("dana approving", approve, http.StatusOK)
	if d := decided(first); d == nil || d.Kind != review.Approve || d.Actor != "dana" {
		t.Fatalf("%s decided %+v, want approved by dana", first, d)
	}
	updates := sl.Calls("chat.update")
	if len(updates) != 1 || updates[0].Form.Get("channel") != messages[first].Channel || updates[0].Form.Get("ts") != messages[first].TS ||
		updates[0].Form.Get("text") != "Approved by dana" || len(updates[0].Buttons()) != 1 {
		t.Errorf("message update %+v, want the message saying dana approved, Open its only button", updates)
	}
	// The same request again is a replay; Slack's retry of the click (signed
	// anew) decides once, with no refusal.
	send("replayed approval", approve, http.StatusUnauthorized)
	send("retried approval", standin.Sign(secret, click, time.Now().Add(time.Second)), http.StatusOK)
	if a := answers(click); len(a) != 0 {
		t.Errorf("the retried click was answered %+v, want no refusal", a)
	}

	// Reject asks why in a modal; the reason decides.
	send("dana rejecting", standin.Sign(secret, sl.Click("U0DANA", messages[second], "reject"), time.Now()), http.StatusOK)
	opened := sl.Calls("views.open")
	if len(opened) != 1 || decided(second) != nil {
		t.Fatalf("modals %+v, decided %+v: want a modal and no decision yet", opened, decided(second))
	}
	blank := send("blank reason", standin.Sign(secret, sl.Submit("U0DANA", opened[0], map[string]string{"reason": "  "}), time.Now()), http.StatusOK)
	if !strings.Contains(blank, `"response_action":"errors"`) || !strings.Contains(blank, "say why") || decided(second) != nil {
		t.Errorf("a blank reason answered %s", blank)
	}
	reason := "renewal already signed; usage dipped for the holidays"
	if body := send("reason", standin.Sign(secret, sl.Submit("U0DANA", opened[0], map[string]string{"reason": reason}), time.Now()), http.StatusOK); body != "" {
		t.Errorf("the submission answered %q, want an empty 200 that closes the modal", body)
	}
	if d := decided(second); d == nil || d.Kind != review.Reject || d.Actor != "dana" || d.Reason != reason {
		t.Fatalf("%s decided %+v, want rejected by dana with the reason", second, d)
	}
	if u := sl.Calls("chat.update"); u[len(u)-1].Form.Get("ts") != messages[second].TS || !strings.HasPrefix(u[len(u)-1].Form.Get("text"), "Rejected by dana") {
		t.Errorf("last message update %+v, want the second message saying dana rejected it", u[len(u)-1].Form)
	}
}
