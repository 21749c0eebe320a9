package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"golang.org/x/crypto/bcrypt"

	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/identity"
	"github.com/churnwatch/churnwatch/mail/mailpit"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/workflows"
)

// outreachTeam is dana (a CSM with an email), her manager mia and the
// leader lee, each with a password and a token.
func outreachTeam(t *testing.T, cfg config.Config) *team {
	t.Helper()
	identity.PasswordCost = bcrypt.MinCost
	ctx := context.Background()
	st, err := store.Open(ctx, cfg.Store.DSN, cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tm := &team{st: st, tokens: map[string]string{}}
	hash, err := identity.HashPassword(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []identity.User{
		{Name: "mia", Role: identity.Manager},
		{Name: "dana", Role: identity.CSM, Manager: "mia", Email: "dana@team.example"},
		{Name: "lee", Role: identity.Leader},
	} {
		if err := st.AddUser(ctx, u, hash); err != nil {
			t.Fatal(err)
		}
		plain, th, err := identity.NewToken()
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AddToken(ctx, u.Name, th, time.Now()); err != nil {
			t.Fatal(err)
		}
		tm.tokens[u.Name] = plain
	}
	return tm
}

// toCustomers are the messages Mailpit holds for anybody outside the team
// (whose notices go to @team.example).
func toCustomers(t *testing.T, mp *mailpit.Server) []mailpit.Message {
	t.Helper()
	var out []mailpit.Message
	for _, m := range mp.Messages(t) {
		if len(m.To) != 1 || !strings.HasSuffix(m.To[0].Address, "@team.example") {
			out = append(out, m)
		}
	}
	return out
}

// historyOf lists the event types of a workflow's history, and the
// activities it scheduled.
func historyOf(t *testing.T, c client.Client, id string) (types []enums.EventType, activities []string) {
	t.Helper()
	iter := c.GetWorkflowHistory(context.Background(), id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		e, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, e.GetEventType())
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
			activities = append(activities, a.GetActivityType().GetName())
		}
	}
	return types, activities
}

func count[T comparable](xs []T, x T) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}

// TestOutreachSentOnApproval: with notify.send_outreach on, a CSM's
// approval through the API that names the customer contact sends the
// approved outreach (as edited) once, from her address, and the review
// records outreach_sent by churnwatch; nothing reaches a customer before
// an approval, on a rejection, or when the CSM sends it herself.
func TestOutreachSentOnApproval(t *testing.T) {
	mp := mailpit.Start(t, mailpit.Options{})
	cfg := testConfig(t, t.TempDir())
	cfg.Notify.SMTP.Addr, cfg.Notify.SMTP.From, cfg.Notify.SMTP.StartTLS = mp.SMTPAddr, "Churnwatch <churnwatch@example.com>", false
	cfg.Notify.SendOutreach = true
	tm := outreachTeam(t, cfg)
	c := startWorker(t, cfg)
	res := scan(t, c, cfg, examplePath(t))
	byOwner := awaitingReviews(t, cfg, tm, res)
	var others []string
	for owner, ids := range byOwner {
		if owner != "dana" {
			others = append(others, ids...)
		}
	}
	if len(byOwner["dana"]) < 1 || len(others) < 2 {
		t.Fatalf("want a review of dana's and two others, got %v", byOwner)
	}
	sent, rejected, herself := byOwner["dana"][0], others[0], others[1]
	if got := toCustomers(t, mp); len(got) != 0 {
		t.Fatalf("%d emails reached customers before any approval", len(got))
	}

	decide := func(token, id string, body map[string]any) {
		t.Helper()
		if code, out := api(t, cfg, token, "POST", apiPath(id)+"/decision", body); code != http.StatusOK {
			t.Fatalf("deciding %s: %d %s", id, code, out)
		}
	}
	decide(tm.tokens["lee"], rejected, map[string]any{"decision": "reject", "reason": "seasonal", "outreach_to": "bob@customer.example"})
	decide(tm.tokens["lee"], herself, map[string]any{"decision": "approve", "outreach_to": "carol@customer.example", "send_myself": true})
	edited := review.Email{Subject: "Tuesday?", Body: "Hi Ana,\n\nCould we look at the rollout together on Tuesday?\n\nDana"}
	decide(tm.tokens["dana"], sent, map[string]any{"decision": "approve", "outreach": edited, "outreach_to": "Ana Lima <ana@customer.example>"})

	waitFor(t, "outreach_sent on dana's review", func() bool {
		p, err := tm.st.Packet(context.Background(), sent)
		return err == nil && p.Action != nil && p.Action.Sent != nil
	})
	// The rejection closes its review; the other waits for its outcome on
	// a timer, past the point where it would have sent.
	if err := c.GetWorkflow(context.Background(), rejected, "").Get(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the review sent by hand to wait for its outcome", func() bool {
		types, _ := historyOf(t, c, herself)
		return count(types, enums.EVENT_TYPE_TIMER_STARTED) >= 2 // the decision's SLA, then the follow-up
	})
	for _, id := range []string{rejected, herself} {
		if _, acts := historyOf(t, c, id); count(acts, workflows.ActSendOutreach) != 0 {
			t.Errorf("%s scheduled %s", id, workflows.ActSendOutreach)
		}
	}

	got := toCustomers(t, mp)
	if len(got) != 1 {
		t.Fatalf("%d emails reached customers, want 1: %+v", len(got), got)
	}
	m := got[0]
	if m.To[0] != (mailpit.Address{Name: "Ana Lima", Address: "ana@customer.example"}) || m.From.Address != "dana@team.example" ||
		len(m.ReplyTo) != 1 || m.ReplyTo[0].Address != "dana@team.example" || m.Subject != edited.Subject ||
		strings.ReplaceAll(m.Text, "\r\n", "\n") != edited.Body+"\n" {
		t.Errorf("the outreach: from %+v reply-to %+v to %+v subject %q body %q", m.From, m.ReplyTo, m.To, m.Subject, m.Text)
	}

	_, body := api(t, cfg, tm.tokens["dana"], "GET", apiPath(sent), nil)
	var p review.Packet
	if err := json.Unmarshal(body, &p); err != nil || p.Action == nil || p.Action.Sent == nil || p.Action.Sent.MessageID != "<"+m.MessageID+">" {
		t.Errorf("the packet's send: %+v (%v)", p.Action, err)
	}
	hc := browserless(t)
	base := "http://" + cfg.HTTP.Addr
	signIn(t, hc, base, "dana")
	_, page, _ := get(t, hc, base+review.PagePath(sent))
	if !strings.Contains(page, "<td>outreach_sent</td><td>churnwatch</td><td>to Ana Lima &lt;ana@customer.example&gt;, Message-ID &lt;"+m.MessageID+"&gt;</td>") ||
		!strings.Contains(page, `id="outreach-sent"`) {
		t.Errorf("the page's timeline lacks outreach_sent by churnwatch:\n%s", page)
	}

	if *recordHistories {
		writeHistory(t, c, sent, "../workflows/testdata/review_outreach_sent.json")
	}
}
