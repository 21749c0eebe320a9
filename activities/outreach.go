package activities

import (
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/churnwatch/churnwatch/mail"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/workflows"
)

// SendOutreach emails a review's approved outreach to the customer contact
// the decision names, as the approver: From and Reply-To are their address
// in the user record (notify.smtp.from, the envelope sender, stands in when
// they have none), the subject and body exactly as approved.
//
// It sends once per review, across retries and restarts: it claims the
// send in the store before speaking SMTP and marks the moment the message
// itself goes to the server. A review already sent answers with the
// recorded Message-ID and sends nothing. A claim a crash left before that
// moment is taken over once the attempt is surely gone (outreachClaimLife):
// the server never had the message, so sending it now sends it once. Only a
// crash inside the hand-over itself leaves delivery unknown: the email is
// then not sent again and the CSM is told to check, because for an email to
// a customer a duplicate is worse than a CSM told to check.
func (a *NotifyActivities) SendOutreach(ctx context.Context, in workflows.OutreachRequest) (workflows.OutreachResult, error) {
	res := workflows.OutreachResult{To: in.To}
	if a.Mail == nil || a.Policy == nil || !a.Policy.SendOutreach {
		return res, outreachRefused(errors.New("sending the approved outreach is off on this worker (notify.send_outreach)"))
	}
	m, err := a.outreachMail(ctx, in)
	if err != nil {
		return res, err
	}
	res.MessageID = a.Mail.MessageID(m.Key)
	now := time.Now().UTC()
	rec, claimed, err := a.Store.ClaimOutreach(ctx, store.Outreach{ReviewID: in.ReviewID, To: in.To, MessageID: res.MessageID, ClaimedAt: now},
		now.Add(-outreachClaimLife))
	if err != nil {
		return res, err
	}
	if !claimed {
		if rec.State == store.OutreachSent {
			return workflows.OutreachResult{To: rec.To, MessageID: rec.MessageID}, nil
		}
		msg := fmt.Sprintf("delivery unknown after a crash: an attempt claimed the send to %s at %s and never said how it ended",
			rec.To, rec.ClaimedAt.Format(time.RFC3339))
		return res, temporal.NewNonRetryableApplicationError(msg, workflows.ErrOutreachUnknown, nil)
	}
	m.BeforeData = func() error { return a.Store.MarkOutreachHandingOver(ctx, in.ReviewID) }
	if err := a.Mail.Send(ctx, m); err != nil {
		return res, a.outreachNotSent(ctx, in, err)
	}
	// Sent. Should the mark fail, the claim stays "sending", which only a
	// retry of this attempt reads, and a completed activity is not retried.
	if err := a.Store.MarkOutreachSent(ctx, in.ReviewID, time.Now().UTC()); err != nil {
		logOr(a.Logger).Warn("outreach sent; recording it failed", "review_id", in.ReviewID, "error", err)
	}
	logOr(a.Logger).Info("outreach sent", "review_id", in.ReviewID, "to", in.To, "as", m.From, "message_id", res.MessageID)
	return res, nil
}

// outreachMail is the approved outreach as an email from the approver.
func (a *NotifyActivities) outreachMail(ctx context.Context, in workflows.OutreachRequest) (mail.Message, error) {
	to, err := netmail.ParseAddress(in.To)
	if err != nil {
		return mail.Message{}, outreachRefused(fmt.Errorf("recipient %q is not an address: %w", in.To, err))
	}
	m := mail.Message{
		ToName: to.Name, ToAddress: to.Address,
		Subject: in.Email.Subject, Body: in.Email.Body,
		Key:      "outreach/" + in.ReviewID, // one Message-ID per review
		Personal: true,
	}
	u, err := a.Store.User(ctx, in.Approver)
	switch {
	case errors.Is(err, store.ErrNotFound): // decided straight through Temporal: no address to send as
	case err != nil:
		return m, fmt.Errorf("look up the email of %s: %w", in.Approver, err)
	case strings.TrimSpace(u.Email) != "":
		m.From, m.ReplyTo = strings.TrimSpace(u.Email), strings.TrimSpace(u.Email)
	}
	return m, nil
}

// outreachNotSent answers a failed SMTP exchange. A failure after the
// server had the whole message keeps the claim: delivery is unknown. Any
// other failure means the server did not take it: the claim is released
// for a retry, which a refusal (a 5xx answer) does not get.
func (a *NotifyActivities) outreachNotSent(ctx context.Context, in workflows.OutreachRequest, err error) error {
	if errors.Is(err, mail.ErrUnconfirmed) {
		msg := "delivery unknown: " + err.Error()
		return temporal.NewNonRetryableApplicationError(msg, workflows.ErrOutreachUnknown, nil)
	}
	if rerr := a.Store.ReleaseOutreach(ctx, in.ReviewID); rerr != nil {
		// The claim stays: a retry reports delivery unknown, never sends twice.
		return fmt.Errorf("send the outreach to %s: %w (and releasing the claim failed: %v)", in.To, err, rerr)
	}
	if errors.Is(err, mail.ErrRejected) {
		return outreachRefused(fmt.Errorf("send the outreach to %s: %w", in.To, err))
	}
	return fmt.Errorf("send the outreach to %s: %w", in.To, err)
}

// outreachClaimLife is how old a claim that never reached the hand-over
// must be before another attempt takes it: longer than one SMTP exchange
// can run (notify.timeout), shorter than the activity's start-to-close, so
// the retry after a crash finds it free.
const outreachClaimLife = time.Minute

func outreachRefused(err error) error {
	return temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrOutreachRefused, nil)
}
