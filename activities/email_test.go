package activities

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/identity"
	"github.com/churnwatch/churnwatch/mail"
	"github.com/churnwatch/churnwatch/mail/mailpit"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/workflows"
)

func addUsers(t *testing.T, a *testActivities, users ...identity.User) {
	t.Helper()
	for _, u := range users {
		if err := a.Store.AddUser(context.Background(), u, ""); err != nil {
			t.Fatal(err)
		}
	}
}

// TestNotifyEmailsTheRecipient: an escalation reaches the manager's
// mailbox through a real SMTP server, linked to the review's page; a
// recipient without an address in the record, or not in it, gets none.
func TestNotifyEmailsTheRecipient(t *testing.T) {
	mp := mailpit.Start(t, mailpit.Options{})
	a, env := newActivities(t)
	a.Mail = &mail.Sender{Addr: mp.SMTPAddr, From: "Churnwatch <churnwatch@example.com>"}
	a.PagesURL = "https://cw.example.com"
	addUsers(t, a,
		identity.User{Name: "mia", Role: identity.Manager, Email: "mia@example.com"},
		identity.User{Name: "sam", Role: identity.CSM, Manager: "mia"},
		identity.User{Name: "dis", Role: identity.CSM, Email: "dis@example.com", Disabled: true},
	)
	escalation := review.Notice{ReviewID: "review/A-1/2026-11-16", To: "mia", Kind: review.EventEscalated,
		Message: "dana owns the critical review of Acme (score 85), undecided past SLA and reminder"}
	for _, n := range []review.Notice{
		escalation,
		{ReviewID: "review/A-2/2026-11-16", To: "sam", Kind: review.EventReminded, Message: "no address"},
		{ReviewID: "review/A-3/2026-11-16", To: "dis", Kind: review.EventReminded, Message: "disabled"},
		{ReviewID: "review/A-4/2026-11-16", To: "cs-lead", Kind: review.EventEscalated, Message: "a manager named in config only"},
	} {
		if _, err := env.ExecuteActivity("Notify", n); err != nil {
			t.Fatalf("notice to %s: %v", n.To, err)
		}
	}
	drain(t, NewDeliverer(a.NotifyActivities))
	got := mp.Messages(t)
	if len(got) != 1 {
		t.Fatalf("received %d messages, want the escalation to mia only: %+v", len(got), got)
	}
	m := got[0]
	if len(m.To) != 1 || m.To[0].Address != "mia@example.com" || m.Subject != "Churnwatch: "+escalation.Message ||
		!strings.Contains(m.Text, escalation.Message+"\r\n\r\nhttps://cw.example.com/review/A-1/2026-11-16\r\n") {
		t.Errorf("got to %v, subject %q, body:\n%s", m.To, m.Subject, m.Text)
	}
}

// TestNotifyWithADeadMailServer: a server that never answers holds up
// neither Notify nor anything else: the notice waits in the outbox, its
// error saying what happened, is retried a bounded number of times, never
// for ever, and is then failed.
func TestNotifyWithADeadMailServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var tries atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			tries.Add(1)
			defer c.Close() // silent until the test ends
		}
	}()
	a, env := newActivities(t)
	a.Mail = &mail.Sender{Addr: l.Addr().String(), From: "churnwatch@example.com", Timeout: 100 * time.Millisecond}
	addUsers(t, a, identity.User{Name: "mia", Role: identity.Manager, Email: "mia@example.com"})
	n := review.Notice{ReviewID: "review/A-1/2026-11-16", To: "mia", Kind: review.EventEscalated, Message: "undecided"}
	if _, err := env.ExecuteActivity("Notify", n); err != nil {
		t.Fatalf("Notify waits on the mail server: %v", err)
	}
	if tries.Load() != 0 {
		t.Fatal("Notify dialled the mail server")
	}

	d := NewDeliverer(a.NotifyActivities)
	d.FirstRetry = time.Microsecond
	if _, err := d.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	p := notices(t, a.Store, store.NoticePending)
	if len(p) != 1 || p[0].Attempts != 1 || !strings.Contains(p[0].LastError, "email the notice to mia") || !strings.Contains(p[0].LastError, "no answer within 100ms") {
		t.Fatalf("a first failure is retried and says why: %+v", p)
	}
	drain(t, d)
	f := notices(t, a.Store, store.NoticeFailed)
	if len(f) != 1 || !strings.Contains(f[0].LastError, "gave up after 8 attempts") {
		t.Fatalf("want the email to give up: %+v", f)
	}
	if n := tries.Load(); n != DefaultNoticeAttempts {
		t.Errorf("the mail server was tried %d times, want %d", n, DefaultNoticeAttempts)
	}
}

// TestSendDigestsResumes: the digest reaches each person with reviews
// waiting; a retry that an earlier attempt reported reaching dana writes
// to the others only.
func TestSendDigestsResumes(t *testing.T) {
	mp := mailpit.Start(t, mailpit.Options{})
	a, env := newActivities(t)
	a.Mail = &mail.Sender{Addr: mp.SMTPAddr, From: "churnwatch@example.com"}
	a.PagesURL = "https://cw.example.com"
	addUsers(t, a,
		identity.User{Name: "dana", Role: identity.CSM, Manager: "mia", Email: "dana@example.com"},
		identity.User{Name: "mia", Role: identity.Manager, Email: "mia@example.com"},
		identity.User{Name: "lee", Role: identity.Leader}, // no email
	)
	now := time.Now()
	a1 := risk.Assessment{AccountID: "A-1", AccountName: "Acme", Owner: "dana", Tier: risk.Critical, Score: 85, SLAHours: 48}
	p := review.Packet{ReviewID: review.ID("A-1", "2026-11-16"), AccountID: "A-1", AccountName: "Acme", Owner: "dana", Cycle: "2026-11-16",
		State: review.AwaitingApproval, Severity: risk.Critical, Assessment: a1, CreatedAt: now, UpdatedAt: now}
	if err := a.Store.SavePacket(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	env.SetHeartbeatDetails(workflows.DigestResult{Sent: []string{"dana"}})
	res := execute[workflows.DigestResult](t, env, "SendDigests", workflows.DigestInput{TimeZone: "Europe/Paris"})
	if strings.Join(res.Sent, ",") != "dana,mia" {
		t.Errorf("sent %v", res.Sent)
	}
	got := mp.Messages(t)
	if len(got) != 1 || got[0].To[0].Address != "mia@example.com" || !strings.Contains(got[0].Text, "Acme (A-1): critical, score 85, owner dana") ||
		!strings.Contains(got[0].Text, "https://cw.example.com/review/A-1/2026-11-16") || !strings.Contains(got[0].Text, " CET (in ") {
		t.Errorf("received %+v", got)
	}

	a.Mail = nil
	if res := execute[workflows.DigestResult](t, env, "SendDigests", workflows.DigestInput{}); len(res.Sent) != 0 {
		t.Errorf("email off sent %v", res.Sent)
	}
}
