// Package mail sends the team's email (reminders, escalations, the daily
// digest) through one SMTP server: STARTTLS when required, AUTH PLAIN when
// a username is set, every step bounded by a timeout, plain-text UTF-8
// bodies and headers encoded for non-ASCII names and subjects.
//
// Mail goes to people inside the team, and to a customer only when a CSM
// approved it (the approved outreach, sent as the CSM: Message.From and
// ReplyTo). The SMTP password is never logged and never put in an error.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"

	"github.com/churnwatch/churnwatch/config"
)

// Sender sends messages through one SMTP server. Its zero Timeout means
// DefaultTimeout.
type Sender struct {
	Addr     string // HOST:PORT
	From     string // "Name <address>" or a bare address
	Username string // empty = no AUTH
	Password string
	// StartTLS requires the server to offer STARTTLS and upgrades before
	// authenticating or sending; a server that does not offer it is an error.
	StartTLS bool
	// Timeout bounds one whole send, from dialling to QUIT.
	Timeout time.Duration
	// TLS is the client's TLS configuration for STARTTLS; nil verifies the
	// server against the system's roots under the host name of Addr.
	TLS *tls.Config
}

// DefaultTimeout bounds a send when Sender.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// FromConfig is the sender notify.smtp describes, each send bounded by
// notify.timeout; nil when email is off (no notify.smtp.addr).
func FromConfig(c config.Notify) *Sender {
	if c.SMTP.Addr == "" {
		return nil
	}
	return &Sender{
		Addr:     c.SMTP.Addr,
		From:     c.SMTP.From,
		Username: c.SMTP.Username,
		Password: c.SMTP.Password,
		StartTLS: c.SMTP.StartTLS,
		Timeout:  c.Timeout,
	}
}

// Message is one plain-text email to one person.
type Message struct {
	ToName    string // the display name, any UTF-8; may be empty
	ToAddress string
	Subject   string
	Body      string // plain text, UTF-8, lines separated by \n
	// Key, when set, makes the Message-ID a function of it, so a retried
	// send of the same notice carries the same Message-ID and a mail client
	// shows it once. Empty = a random Message-ID.
	Key string
	// From, when set ("Name <address>" or bare), is the author the reader
	// sees: a person's own message sent through Churnwatch. The Sender's
	// From stays the envelope sender, where bounces go, and names the
	// Message-ID's domain.
	From string
	// ReplyTo, when set, is where the reader's answer goes.
	ReplyTo string
	// Personal marks a message a person wrote or approved (the outreach to
	// a customer): it carries no Auto-Submitted header, which would file it
	// as machine-made.
	Personal bool
	// BeforeData, when set, runs after the server accepted the sender and
	// the recipient and before the message itself is handed over; an error
	// stops the send there. Until it runs, the server has nothing it could
	// deliver, so a caller that records the moment knows whether a send cut
	// short by a crash may be tried again.
	BeforeData func() error `json:"-"`
}

// ErrRejected marks an answer no retry can change: the server refused the
// credentials, the sender or the recipient (a 5xx reply), or it does not
// offer the STARTTLS the configuration requires.
var ErrRejected = errors.New("mail server refused")

// ErrUnconfirmed marks a failure after the whole message was handed over
// and before the server answered: it may have been delivered. A sender
// that must not send twice treats it as sent.
var ErrUnconfirmed = errors.New("the server may have accepted the message")

// MessageID is the Message-ID a message with key gets from s.
func (s *Sender) MessageID(key string) string {
	from, err := netmail.ParseAddress(s.From)
	if err != nil {
		return messageID(key, "")
	}
	return messageID(key, from.Address)
}

// Send delivers m. Errors name the step that failed and the server's
// address, never the password; they wrap ErrRejected when retrying cannot
// help.
func (s *Sender) Send(ctx context.Context, m Message) error {
	from, err := netmail.ParseAddress(s.From)
	if err != nil {
		return fmt.Errorf("%w: notify.smtp.from %q is not an address: %v", ErrRejected, s.From, err)
	}
	to := netmail.Address{Name: m.ToName, Address: m.ToAddress}
	if _, err := netmail.ParseAddress(to.Address); err != nil {
		return fmt.Errorf("%w: recipient %q is not an address: %v", ErrRejected, m.ToAddress, err)
	}
	h := headers{from: *from, to: to, idDomain: from.Address}
	if m.From != "" {
		author, err := netmail.ParseAddress(m.From)
		if err != nil {
			return fmt.Errorf("%w: author %q is not an address: %v", ErrRejected, m.From, err)
		}
		h.from = *author
	}
	if m.ReplyTo != "" {
		if h.replyTo, err = netmail.ParseAddress(m.ReplyTo); err != nil {
			return fmt.Errorf("%w: reply-to %q is not an address: %v", ErrRejected, m.ReplyTo, err)
		}
	}
	data, err := compose(h, m, time.Now())
	if err != nil {
		return err
	}
	if err := s.send(ctx, from.Address, to.Address, data, m.BeforeData); err != nil {
		return s.scrub(fmt.Errorf("send mail via %s: %w", s.Addr, err))
	}
	return nil
}

// send speaks SMTP to the server within the timeout.
func (s *Sender) send(ctx context.Context, from, to string, data []byte, beforeData func() error) error {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("%w: address %q is not HOST:PORT", ErrRejected, s.Addr)
	}
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("connect: %w", timedOut(err, timeout))
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	if err := conn.SetDeadline(deadline); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	// A cancelled activity must not wait for the deadline.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return describe("greeting", err, timeout)
	}
	defer c.Close()
	return s.converse(c, host, from, to, data, beforeData, timeout)
}

// describe names the step that failed, marks a 5xx reply as ErrRejected
// and says how long was waited on a timeout.
func describe(what string, err error, timeout time.Duration) error {
	if err == nil {
		return nil
	}
	var reply *textproto.Error
	if errors.As(err, &reply) && reply.Code >= 500 {
		return fmt.Errorf("%s: %w: %d %s", what, ErrRejected, reply.Code, reply.Msg)
	}
	return fmt.Errorf("%s: %w", what, timedOut(err, timeout))
}

// converse upgrades, authenticates and hands the message over.
func (s *Sender) converse(c *smtp.Client, host, from, to string, data []byte, beforeData func() error, timeout time.Duration) error {
	step := func(what string, err error) error { return describe(what, err, timeout) }
	if s.StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return step("EHLO", fmt.Errorf("%w: the server does not offer STARTTLS, which notify.smtp.starttls requires", ErrRejected))
		}
		cfg := s.TLS
		if cfg == nil {
			cfg = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		}
		if err := c.StartTLS(cfg); err != nil {
			return step("STARTTLS", err)
		}
	}
	if s.Username != "" {
		// net/smtp's PlainAuth refuses to send credentials in clear text
		// except to a loopback server.
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			if err.Error() == "unencrypted connection" {
				err = fmt.Errorf("%w: AUTH over an unencrypted connection (set notify.smtp.starttls)", ErrRejected)
			}
			return step("AUTH", err)
		}
	}
	if err := c.Mail(from); err != nil {
		return step("MAIL FROM", err)
	}
	if err := c.Rcpt(to); err != nil {
		return step("RCPT TO", err)
	}
	if beforeData != nil {
		if err := beforeData(); err != nil {
			return fmt.Errorf("before DATA: %w", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return step("DATA", err)
	}
	if _, err := w.Write(data); err != nil {
		return step("DATA", err)
	}
	if err := w.Close(); err != nil {
		var reply *textproto.Error
		if !errors.As(err, &reply) {
			// Sent whole, unanswered: the server may have taken it.
			err = fmt.Errorf("%w: %w", ErrUnconfirmed, err)
		}
		return step("DATA", err)
	}
	// The message is accepted once DATA is; a lost QUIT loses nothing.
	_ = c.Quit()
	return nil
}

// timedOut says how long was waited when err is a timeout.
func timedOut(err error, timeout time.Duration) error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("no answer within %s: %w", timeout, err)
	}
	return err
}

// scrub removes the password, plain or as AUTH PLAIN sends it, from an
// error a server may have echoed it into.
func (s *Sender) scrub(err error) error {
	if s.Password == "" {
		return err
	}
	msg := err.Error()
	plain := base64.StdEncoding.EncodeToString([]byte("\x00" + s.Username + "\x00" + s.Password))
	if !strings.Contains(msg, s.Password) && !strings.Contains(msg, plain) {
		return err
	}
	msg = strings.ReplaceAll(strings.ReplaceAll(msg, plain, "********"), s.Password, "********")
	if errors.Is(err, ErrRejected) {
		return fmt.Errorf("%w: %s", ErrRejected, msg)
	}
	return errors.New(msg)
}

// headers are a message's addresses: idDomain (the envelope sender's
// address) names the Message-ID's domain.
type headers struct {
	from, to netmail.Address
	replyTo  *netmail.Address
	idDomain string
}

// compose writes the message: headers encoded as RFC 2047 words where they
// are not ASCII, the body quoted-printable UTF-8 with CRLF line ends.
func compose(h headers, m Message, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	header := func(name, value string) { fmt.Fprintf(&b, "%s: %s\r\n", name, value) }
	header("From", h.from.String())
	if h.replyTo != nil {
		header("Reply-To", h.replyTo.String())
	}
	header("To", h.to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", oneLine(m.Subject)))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", messageID(m.Key, h.idDomain))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	if !m.Personal {
		// RFC 3834: vacation responders must not answer a notice.
		header("Auto-Submitted", "auto-generated")
	}
	b.WriteString("\r\n")
	body := strings.ReplaceAll(m.Body, "\r\n", "\n")
	if !strings.HasSuffix(body, "\n") {
		body += "\n"
	}
	w := quotedprintable.NewWriter(&b) // writes each \n as CRLF
	if _, err := w.Write([]byte(body)); err != nil {
		return nil, fmt.Errorf("encode mail body: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encode mail body: %w", err)
	}
	return b.Bytes(), nil
}

// oneLine keeps a header value on one line: a line break in a subject
// would let it write headers of its own.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// messageID is <hex@domain>, the hex derived from key when there is one.
func messageID(key, from string) string {
	var id [16]byte
	if key != "" {
		sum := sha256.Sum256([]byte(key))
		copy(id[:], sum[:])
	} else {
		rand.Read(id[:])
	}
	domain := "churnwatch.invalid"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i < len(from)-1 {
		domain = from[i+1:]
	}
	return "<" + hex.EncodeToString(id[:]) + "@" + domain + ">"
}
