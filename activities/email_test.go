package activities

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/churnwatch/churnwatch/identity"
	"github.com/churnwatch/churnwatch/mail"
	"github.com/churnwatch/churnwatch/mail/mailpit"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/workflows"
)

func addUsers(t *testing.T, a *Activities, users ...identity.User) {
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

// TestNotifyWithADeadMailServer: a server that never answers fails the
// notice with an error that says what happened, retried a bounded number
// of times, never for ever: the review waits on its notices.
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

	_, err = env.ExecuteActivity("Notify", n)
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.NonRetryable() || !strings.Contains(err.Error(), "email the notice to mia (attempt 1 of 5)") ||
		!strings.Contains(err.Error(), "no answer within 100ms") {
		t.Fatalf("a first failure is retried and says why: %v", err)
	}

	// Under Notify's own retry policy (unbounded; the test server caps it
	// at 10 attempts), the email gives up after maxEmailAttempts.
	tries.Store(0)
	var ts testsuite.WorkflowTestSuite
	wenv := ts.NewTestWorkflowEnvironment()
	wenv.RegisterActivity(a)
	wenv.RegisterWorkflow(notifyOnce)
	wenv.ExecuteWorkflow(notifyOnce, n)
	err = wenv.GetWorkflowError()
	if !errors.As(err, &appErr) || !appErr.NonRetryable() || appErr.Type() != "EmailFailed" || !strings.Contains(err.Error(), "gave up after 5 attempts") {
		t.Fatalf("want the email to give up: %v", err)
	}
	if n := tries.Load(); n != maxEmailAttempts {
		t.Errorf("the mail server was tried %d times, want %d", n, maxEmailAttempts)
	}
}

// notifyOnce runs Notify as the review does: retried with backoff and no
// limit on attempts of its own.
func notifyOnce(ctx workflow.Context, n review.Notice) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute},
	})
	return workflow.ExecuteActivity(ctx, workflows.ActNotify, n).Get(ctx, nil)
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
