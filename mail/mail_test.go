package mail_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/mail"
	"github.com/churnwatch/churnwatch/mail/mailpit"
)

// TestSendsPlainUTF8 sends through a real SMTP server (Mailpit) and reads
// the message back through its API: non-ASCII names and subjects arrive
// intact through encoded headers, the body as written, and a retried send
// under one key carries one Message-ID.
func TestSendsPlainUTF8(t *testing.T) {
	mp := mailpit.Start(t, mailpit.Options{})
	s := &mail.Sender{Addr: mp.SMTPAddr, From: "Churnwatch Bénévole <churnwatch@example.com>"}
	body := "Bonjour Zoë,\n\n. a line that starts with a dot\nhttps://churnwatch.example.com/review/A-1001/2026-11-16?a=1&b=" + strings.Repeat("x", 90) + "\n"
	m := mail.Message{ToName: "Zoë Ødegård", ToAddress: "zoe@example.com", Subject: "Société Générale — 3 reviews wait\r\nBcc: eve@example.com", Body: body, Key: "notice-1"}
	for range 2 {
		if err := s.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	m.Key = "notice-2"
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := mp.Messages(t)
	if len(got) != 3 {
		t.Fatalf("received %d messages, want 3", len(got))
	}
	g := got[0]
	if g.Subject != "Société Générale — 3 reviews wait Bcc: eve@example.com" {
		t.Errorf("subject %q: a line break must not start a header", g.Subject)
	}
	if len(g.To) != 1 || g.To[0] != (mailpit.Address{Name: "Zoë Ødegård", Address: "zoe@example.com"}) ||
		g.From != (mailpit.Address{Name: "Churnwatch Bénévole", Address: "churnwatch@example.com"}) {
		t.Errorf("from %+v to %+v", g.From, g.To)
	}
	if text := strings.ReplaceAll(g.Text, "\r\n", "\n"); text != body {
		t.Errorf("body %q, want %q", text, body)
	}
	if got[0].MessageID != got[1].MessageID || got[0].MessageID == got[2].MessageID || !strings.HasSuffix(g.MessageID, "@example.com") {
		t.Errorf("Message-IDs %q %q %q: one per key, in the sender's domain", got[0].MessageID, got[1].MessageID, got[2].MessageID)
	}
	raw := mp.Raw(t, g.ID)
	head, _, _ := strings.Cut(raw, "\r\n\r\n")
	for _, want := range []string{"Content-Type: text/plain; charset=utf-8", "Subject: =?utf-8?q?Soci=C3=A9t=C3=A9", "MIME-Version: 1.0"} {
		if !strings.Contains(head, want) {
			t.Errorf("headers lack %q:\n%s", want, head)
		}
	}
	for _, r := range head {
		if r > 127 {
			t.Fatalf("raw headers carry non-ASCII %q:\n%s", r, head)
		}
	}
	if strings.Contains(head, "\nBcc:") {
		t.Errorf("the subject wrote a header:\n%s", head)
	}
}

// TestSTARTTLSAndAuth: with STARTTLS required the client upgrades, checks
// the server's certificate and authenticates with AUTH PLAIN; a wrong
// password is refused for good and never appears in the error.
func TestSTARTTLSAndAuth(t *testing.T) {
	const password = "correct-horse-battery"
	mp := mailpit.Start(t, mailpit.Options{STARTTLS: true, Users: map[string]string{"churnwatch": password}})
	s := &mail.Sender{Addr: mp.SMTPAddr, From: "churnwatch@example.com", Username: "churnwatch", Password: password, StartTLS: true, TLS: mp.ClientTLS}
	m := mail.Message{ToAddress: "dana@example.com", Subject: "hello", Body: "hi"}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if n := len(mp.Messages(t)); n != 1 {
		t.Fatalf("received %d messages, want 1", n)
	}

	wrong := *s
	wrong.Password = "not-the-password-42"
	err := wrong.Send(context.Background(), m)
	if !errors.Is(err, mail.ErrRejected) || !strings.Contains(err.Error(), "AUTH") || strings.Contains(err.Error(), wrong.Password) {
		t.Errorf("a wrong password: %v", err)
	}

	untrusted := *s
	untrusted.TLS = nil // the system's roots do not know the test certificate
	if err := untrusted.Send(context.Background(), m); err == nil || !strings.Contains(err.Error(), "STARTTLS") || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("an untrusted certificate: %v", err)
	}

	plain := *s
	plain.StartTLS, plain.Username = false, ""
	if err := plain.Send(context.Background(), m); !errors.Is(err, mail.ErrRejected) {
		t.Errorf("a server that requires STARTTLS refuses plain mail for good: %v", err)
	}
	if n := len(mp.Messages(t)); n != 1 {
		t.Errorf("received %d messages, want still 1", n)
	}
}

// TestSTARTTLSRequiredButNotOffered: notify.smtp.starttls never falls back
// to clear text, so the credentials stay unsent.
func TestSTARTTLSRequiredButNotOffered(t *testing.T) {
	mp := mailpit.Start(t, mailpit.Options{})
	s := &mail.Sender{Addr: mp.SMTPAddr, From: "churnwatch@example.com", Username: "u", Password: "secret-password", StartTLS: true}
	err := s.Send(context.Background(), mail.Message{ToAddress: "dana@example.com", Subject: "s", Body: "b"})
	if !errors.Is(err, mail.ErrRejected) || !strings.Contains(err.Error(), "does not offer STARTTLS") {
		t.Fatalf("got %v", err)
	}
	if n := len(mp.Messages(t)); n != 0 {
		t.Errorf("received %d messages, want none", n)
	}
}

// TestADeadServerTimesOut: a server that accepts the connection and never
// greets, and one that is not there, fail with an error that says so.
func TestADeadServerTimesOut(t *testing.T) {
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
			defer c.Close() // silent until the test ends
		}
	}()
	s := &mail.Sender{Addr: l.Addr().String(), From: "churnwatch@example.com", Timeout: 200 * time.Millisecond}
	err = s.Send(context.Background(), mail.Message{ToAddress: "dana@example.com", Subject: "s", Body: "b"})
	if err == nil || !strings.Contains(err.Error(), "greeting: no answer within 200ms") || errors.Is(err, mail.ErrRejected) {
		t.Errorf("a silent server: %v", err)
	}

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = closed.Addr().String()
	closed.Close()
	err = s.Send(context.Background(), mail.Message{ToAddress: "dana@example.com", Subject: "s", Body: "b"})
	if err == nil || !strings.Contains(err.Error(), "connect") || !strings.Contains(err.Error(), s.Addr) {
		t.Errorf("no server: %v", err)
	}
}

func TestFromConfig(t *testing.T) {
	def := config.Default()
	if mail.FromConfig(def.Notify) != nil {
		t.Error("email is on without notify.smtp.addr")
	}
	def.Notify.SMTP = config.SMTP{Addr: "smtp.example.com:587", From: "cw@example.com", Username: "u", Password: "p", StartTLS: true}
	s := mail.FromConfig(def.Notify)
	if s == nil || s.Addr != "smtp.example.com:587" || !s.StartTLS || s.Timeout != def.Notify.Timeout || s.Password != "p" {
		t.Errorf("got %+v", s)
	}
}
