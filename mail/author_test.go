package mail_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/mail"
	"github.com/churnwatch/churnwatch/mail/mailpit"
)

// TestSendsAsAPerson: a person's message (the approved outreach) shows
// its author in From and Reply-To, while the Sender stays the envelope
// sender and names the Message-ID; it carries no Auto-Submitted.
func TestSendsAsAPerson(t *testing.T) {
	mp := mailpit.Start(t, mailpit.Options{})
	s := &mail.Sender{Addr: mp.SMTPAddr, From: "Churnwatch <churnwatch@example.com>"}
	m := mail.Message{ToAddress: "ana@acme.example", Subject: "Tuesday?", Body: "Hi Ana", Key: "outreach/1",
		From: "Dana <dana@csm.example>", ReplyTo: "dana@csm.example", Personal: true}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := mp.Messages(t)
	if len(got) != 1 {
		t.Fatalf("received %d messages", len(got))
	}
	g := got[0]
	if g.From != (mailpit.Address{Name: "Dana", Address: "dana@csm.example"}) || len(g.ReplyTo) != 1 || g.ReplyTo[0].Address != "dana@csm.example" ||
		g.ReturnPath != "churnwatch@example.com" {
		t.Errorf("from %+v reply-to %+v return-path %q", g.From, g.ReplyTo, g.ReturnPath)
	}
	if "<"+g.MessageID+">" != s.MessageID("outreach/1") || !strings.HasSuffix(g.MessageID, "@example.com") {
		t.Errorf("Message-ID %q, want %q", g.MessageID, s.MessageID("outreach/1"))
	}
	if head, _, _ := strings.Cut(mp.Raw(t, g.ID), "\r\n\r\n"); strings.Contains(head, "Auto-Submitted") {
		t.Errorf("a person's message marked auto-generated:\n%s", head)
	}
	m.ReplyTo = "two@a.example, three@b.example"
	if err := s.Send(context.Background(), m); !errors.Is(err, mail.ErrRejected) {
		t.Errorf("two reply-to addresses: %v", err)
	}
}

// TestUnansweredDataIsUnconfirmed: a server that takes the whole message
// and then never answers may have delivered it, and the error says so; a
// server silent from the start took nothing.
func TestUnansweredDataIsUnconfirmed(t *testing.T) {
	s := &mail.Sender{Addr: silentAfterData(t, true), From: "churnwatch@example.com", Timeout: 300 * time.Millisecond}
	m := mail.Message{ToAddress: "ana@acme.example", Subject: "s", Body: "b"}
	if err := s.Send(context.Background(), m); !errors.Is(err, mail.ErrUnconfirmed) {
		t.Errorf("no answer to the data: %v, want ErrUnconfirmed", err)
	}
	s.Addr = silentAfterData(t, false)
	if err := s.Send(context.Background(), m); err == nil || errors.Is(err, mail.ErrUnconfirmed) {
		t.Errorf("no greeting: %v, want an error that is not ErrUnconfirmed", err)
	}
}

// silentAfterData serves just enough SMTP to take one message, then stays
// silent where the server would answer the data (or, without greet, from
// the start): the hang no real server does on purpose.
func silentAfterData(t *testing.T, greet bool) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		if !greet {
			time.Sleep(time.Second)
			return
		}
		r := bufio.NewReader(c)
		c.Write([]byte("220 stand-in ESMTP\r\n"))
		inData := false
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
			case inData && line == ".\r\n":
				time.Sleep(time.Second) // the message is whole: no answer
				return
			case inData:
			case cmd == "DATA":
				inData = true
				c.Write([]byte("354 go ahead\r\n"))
			default: // EHLO, MAIL, RCPT
				c.Write([]byte("250 ok\r\n"))
			}
		}
	}()
	return l.Addr().String()
}
