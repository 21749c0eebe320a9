package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/churnwatch/churnwatch/mail"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/webhook"
)

// emailNotice emails notice m to its recipient when email is on and the
// user record holds an address for them; a recipient without one (or not
// in the record: a manager named only in config) gets none. The error
// wraps mail.ErrRejected when no retry can change the server's answer; the
// outbox's drainer retries any other (deliver.go).
func (a *NotifyActivities) emailNotice(ctx context.Context, m webhook.Message) error {
	if a.Mail == nil {
		return nil
	}
	u, err := a.Store.User(ctx, m.To)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("look up the email of %s: %w", m.To, err)
	}
	if u.Disabled || strings.TrimSpace(u.Email) == "" {
		return nil
	}
	if err := a.Mail.Send(ctx, noticeMail(m, u.Email)); err != nil {
		return fmt.Errorf("email the notice to %s: %w", u.Name, err)
	}
	return nil
}

// noticeMail is a notice as an email: the message as its subject and
// first line, then the review's page.
func noticeMail(m webhook.Message, address string) mail.Message {
	var b strings.Builder
	b.WriteString(m.Message + "\n\n")
	if m.URL != "" {
		b.WriteString(m.URL + "\n\n")
	}
	fmt.Fprintf(&b, "Review %s (%s).\nA notice for the team from Churnwatch: nothing here went to the customer.\n", m.ReviewID, m.Kind)
	subject := m.Message
	if r := []rune(subject); len(r) > 120 {
		subject = string(r[:119]) + "…"
	}
	return mail.Message{ToName: m.To, ToAddress: address, Subject: "Churnwatch: " + subject, Body: b.String(), Key: m.Key}
}
