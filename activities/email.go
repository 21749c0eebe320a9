package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/churnwatch/churnwatch/mail"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/webhook"
)

// maxEmailAttempts bounds the attempts of Notify that try a notice's
// email. The review waits for its notices and Notify is retried for as
// long as it fails, so a mail server that is down must end in a reported
// failure, not hold the review: with Notify's backoff (1 s doubling) and
// notify.timeout per try, five attempts give up within about a minute.
const maxEmailAttempts = 5

// emailNotice emails notice m to its recipient when email is on and the
// user record holds an address for them; a recipient without one (or not
// in the record: a manager named only in config) gets none. A failure is
// reported as a webhook's is: retried, except a refusal no retry can
// change, and never past maxEmailAttempts.
func (a *Activities) emailNotice(ctx context.Context, m webhook.Message) error {
	if a.Mail == nil {
		return nil
	}
	attempt := activity.GetInfo(ctx).Attempt
	if attempt > maxEmailAttempts { // earlier attempts timed out
		err := fmt.Errorf("email the notice to %s: gave up after %d attempts", m.To, maxEmailAttempts)
		return temporal.NewNonRetryableApplicationError(err.Error(), "EmailFailed", err)
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
	err = a.Mail.Send(ctx, noticeMail(m, u.Email))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mail.ErrRejected):
		err = fmt.Errorf("email the notice to %s: %w", u.Name, err)
		return temporal.NewNonRetryableApplicationError(err.Error(), "EmailRejected", err)
	case attempt >= maxEmailAttempts:
		err = fmt.Errorf("email the notice to %s: gave up after %d attempts: %w", u.Name, attempt, err)
		return temporal.NewNonRetryableApplicationError(err.Error(), "EmailFailed", err)
	}
	return fmt.Errorf("email the notice to %s (attempt %d of %d): %w", u.Name, attempt, maxEmailAttempts, err)
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
