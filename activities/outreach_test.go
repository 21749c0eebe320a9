package activities

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/churnwatch/churnwatch/identity"
	"github.com/churnwatch/churnwatch/mail"
	"github.com/churnwatch/churnwatch/mail/mailpit"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/workflows"
)

// outreachActivities are activities that may send outreach through mp.
func outreachActivities(t *testing.T, mp *mailpit.Server) (*testActivities, func(workflows.OutreachRequest) (workflows.OutreachResult, error)) {
	t.Helper()
	a, env := newActivities(t)
	a.Mail = &mail.Sender{Addr: mp.SMTPAddr, From: "Churnwatch <churnwatch@example.com>"}
	a.NotifyActivities.Policy = &review.Policy{SendOutreach: true}
	addUsers(t, a,
		identity.User{Name: "dana", Role: identity.CSM, Email: "dana@example.com"},
		identity.User{Name: "sam", Role: identity.CSM},
	)
	return a, func(in workflows.OutreachRequest) (workflows.OutreachResult, error) {
		var res workflows.OutreachResult
		v, err := env.ExecuteActivity(workflows.ActSendOutreach, in)
		if err == nil {
			err = v.Get(&res)
		}
		return res, err
	}
}

func outreachRequest(approver string) workflows.OutreachRequest {
	return workflows.OutreachRequest{
		ReviewID: review.ID("A-1", "2026-11-16"), AccountID: "A-1", AccountName: "Acme", Approver: approver,
		To:    "Ana Lima <ana@acme.example>",
		Email: review.Email{Language: "en", Subject: "Your rollout goal", Body: "Hi Ana,\n\nCould we talk on Tuesday?\n\nDana"},
	}
}

func errorType(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Type()
	}
	return ""
}

// TestSendOutreachOnce: the approved outreach reaches the customer as the
// approving CSM (From and Reply-To theirs, Churnwatch the envelope
// sender), the body exactly as approved; a retry after the send sends
// nothing and answers with the same Message-ID.
func TestSendOutreachOnce(t *testing.T) {
	mp := mailpit.Start(t, mailpit.Options{})
	_, send := outreachActivities(t, mp)
	in := outreachRequest("dana")
	res, err := send(in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := send(in)
	if err != nil || again != res {
		t.Fatalf("a retry after the send: %+v %v, want %+v", again, err, res)
	}
	got := mp.Messages(t)
	if len(got) != 1 {
		t.Fatalf("received %d messages, want 1", len(got))
	}
	m := got[0]
	if m.From != (mailpit.Address{Address: "dana@example.com"}) || len(m.ReplyTo) != 1 || m.ReplyTo[0].Address != "dana@example.com" ||
		len(m.To) != 1 || m.To[0] != (mailpit.Address{Name: "Ana Lima", Address: "ana@acme.example"}) || m.ReturnPath != "churnwatch@example.com" {
		t.Errorf("from %+v reply-to %+v to %+v return-path %q", m.From, m.ReplyTo, m.To, m.ReturnPath)
	}
	if m.Subject != in.Email.Subject || strings.ReplaceAll(m.Text, "\r\n", "\n") != in.Email.Body+"\n" {
		t.Errorf("subject %q body %q", m.Subject, m.Text)
	}
	if "<"+m.MessageID+">" != res.MessageID || res.To != in.To {
		t.Errorf("result %+v, Message-ID received %q", res, m.MessageID)
	}
	if head, _, _ := strings.Cut(mp.Raw(t, m.ID), "\r\n\r\n"); strings.Contains(head, "Auto-Submitted") {
		t.Errorf("the CSM's email is marked machine-made:\n%s", head)
	}
}

// TestSendOutreachWithoutTheCSMsAddress: From is notify.smtp.from, and no
// Reply-To, when the approver has no email in the user record.
func TestSendOutreachWithoutTheCSMsAddress(t *testing.T) {
	mp := mailpit.Start(t, mailpit.Options{})
	_, send := outreachActivities(t, mp)
	if _, err := send(outreachRequest("sam")); err != nil {
		t.Fatal(err)
	}
	got := mp.Messages(t)
	if len(got) != 1 || got[0].From != (mailpit.Address{Name: "Churnwatch", Address: "churnwatch@example.com"}) || len(got[0].ReplyTo) != 0 {
		t.Fatalf("received %+v", got)
	}
}

// TestSendOutreachRefusesWhenOff: with notify.send_outreach off (or email
// off) nothing is sent, for good.
func TestSendOutreachRefusesWhenOff(t *testing.T) {
	mp := mailpit.Start(t, mailpit.Options{})
	a, send := outreachActivities(t, mp)
	a.NotifyActivities.Policy.SendOutreach = false
	if _, err := send(outreachRequest("dana")); errorType(err) != workflows.ErrOutreachRefused {
		t.Errorf("policy off: %v", err)
	}
	a.NotifyActivities.Policy.SendOutreach, a.Mail = true, nil
	if _, err := send(outreachRequest("dana")); errorType(err) != workflows.ErrOutreachRefused {
		t.Errorf("email off: %v", err)
	}
	if got := mp.Messages(t); len(got) != 0 {
		t.Errorf("received %d messages", len(got))
	}
}

// TestSendOutreachAfterACrash: a claim a crash left inside the hand-over
// (the message may be with the server) is never sent again: delivery is
// unknown, for good. A claim a crash left before the hand-over is taken
// over once it is older than one attempt can live, and sent exactly once.
func TestSendOutreachAfterACrash(t *testing.T) {
	mp := mailpit.Start(t, mailpit.Options{})
	a, send := outreachActivities(t, mp)
	ctx := context.Background()
	in := outreachRequest("dana")
	claimedAt := time.Now().UTC().Add(-10 * time.Minute)
	if _, claimed, err := a.Store.ClaimOutreach(ctx, store.Outreach{ReviewID: in.ReviewID, To: in.To, MessageID: "<x@example.com>", ClaimedAt: claimedAt}, time.Time{}); err != nil || !claimed {
		t.Fatal(claimed, err)
	}
	if err := a.Store.MarkOutreachHandingOver(ctx, in.ReviewID); err != nil {
		t.Fatal(err)
	}
	_, err := send(in)
	if errorType(err) != workflows.ErrOutreachUnknown || !strings.Contains(err.Error(), "delivery unknown after a crash") {
		t.Errorf("a claim left in the hand-over: %v", err)
	}
	if got := mp.Messages(t); len(got) != 0 {
		t.Errorf("received %d messages", len(got))
	}

	// Killed before the hand-over: a fresh claim is an attempt that may
	// still run, an old one is gone and its send is taken over once.
	in = outreachRequest("dana")
	in.ReviewID += "-2"
	if _, claimed, err := a.Store.ClaimOutreach(ctx, store.Outreach{ReviewID: in.ReviewID, To: in.To, MessageID: "<y@example.com>", ClaimedAt: time.Now().UTC()}, time.Time{}); err != nil || !claimed {
		t.Fatal(claimed, err)
	}
	if _, err := send(in); errorType(err) != workflows.ErrOutreachUnknown {
		t.Errorf("a claim still young: %v, want no send", err)
	}
	if _, _, err := a.Store.ClaimOutreach(ctx, store.Outreach{ReviewID: in.ReviewID + "-3", To: in.To, ClaimedAt: claimedAt}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	in.ReviewID += "-3"
	if _, err := send(in); err != nil {
		t.Fatalf("a claim left before the hand-over: %v", err)
	}
	if _, err := send(in); err != nil {
		t.Fatalf("the retry after the send: %v", err)
	}
	if got := mp.Messages(t); len(got) != 1 {
		t.Errorf("received %d messages, want exactly one", len(got))
	}
}

// TestSendOutreachRetriesAServerThatWasDown: a server that hung up before
// its greeting took nothing, so the claim is released and the retry sends it.
func TestSendOutreachRetriesAServerThatWasDown(t *testing.T) {
	mp := mailpit.Start(t, mailpit.Options{})
	a, send := outreachActivities(t, mp)
	// A server that hangs up before its greeting: it took nothing.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	a.Mail.Addr = l.Addr().String()
	in := outreachRequest("dana")
	if _, err := send(in); err == nil || errorType(err) == workflows.ErrOutreachRefused || errorType(err) == workflows.ErrOutreachUnknown {
		t.Fatalf("a server down: %v, want an error to retry", err)
	}
	a.Mail.Addr = mp.SMTPAddr
	if _, err := send(in); err != nil {
		t.Fatalf("the retry: %v", err)
	}
	if got := mp.Messages(t); len(got) != 1 {
		t.Errorf("received %d messages, want 1", len(got))
	}
}
