package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/churnwatch/churnwatch/review"
)

// ActSendOutreach is the method name of the activity that emails the
// approved outreach to the customer.
const ActSendOutreach = "SendOutreach"

// Error types of SendOutreach that no retry can change.
const (
	// ErrOutreachRefused: sending is off on the worker, or the mail server
	// refused the sender or the recipient. Nothing reached the customer.
	ErrOutreachRefused = "OutreachRefused"
	// ErrOutreachUnknown: an earlier attempt claimed the send and never
	// said how it ended (a crash mid-send). It may have reached the
	// customer; it is never sent again.
	ErrOutreachUnknown = "OutreachDeliveryUnknown"
)

// versionSendOutreach gates the send of the approved outreach after the
// action is assigned.
const versionSendOutreach = "send-outreach"

// OutreachRequest asks for a review's approved outreach to be emailed to
// the customer contact the decision names, as the approver.
type OutreachRequest struct {
	ReviewID    string       `json:"review_id"`
	AccountID   string       `json:"account_id"`
	AccountName string       `json:"account_name"`
	Approver    string       `json:"approver"` // the user who approved: the From and Reply-To
	To          string       `json:"to"`       // "Name <address>" or bare, as the CSM gave it
	Email       review.Email `json:"email"`    // exactly as approved
}

// OutreachResult says what was sent.
type OutreachResult struct {
	To        string `json:"to"`
	MessageID string `json:"message_id"`
}

// willSendOutreach reports whether the review sends the approved outreach
// itself: the policy allows it, the approval names a recipient and the CSM
// did not keep the sending for themselves. A rejection sends nothing.
func (r *reviewRun) willSendOutreach() bool {
	d := r.packet.Decision
	return r.in.Policy.SendOutreach && d != nil && d.Kind != review.Reject && d.OutreachTo != "" && !d.SendMyself
}

// outreachNote is what the owner's action notice says about the outreach.
func (r *reviewRun) outreachNote() string {
	if r.willSendOutreach() {
		return fmt.Sprintf("Churnwatch sends the approved outreach to %s as %s.", r.packet.Decision.OutreachTo, r.packet.Decision.Actor)
	}
	return "The approved outreach is yours to send."
}

// sendOutreach emails the approved outreach once the action is assigned,
// when willSendOutreach, and records outreach_sent by churnwatch. A send
// that fails for good is recorded and told to the owner, and the review
// goes on: the CSM sends it then.
func (r *reviewRun) sendOutreach(ctx workflow.Context) error {
	if !r.willSendOutreach() || r.packet.Action == nil {
		return nil
	}
	// Histories recorded before this change never reach here (their
	// policies could not ask for a send); the gate keeps it so.
	if workflow.GetVersion(ctx, versionSendOutreach, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	d := r.packet.Decision
	req := OutreachRequest{
		ReviewID: r.in.ReviewID, AccountID: r.in.AccountID, AccountName: r.in.AccountName,
		Approver: d.Actor, To: d.OutreachTo, Email: r.packet.Action.Outreach,
	}
	var res OutreachResult
	if err := workflow.ExecuteActivity(withOutreachActivityOptions(ctx), ActSendOutreach, req).Get(ctx, &res); err != nil {
		return r.outreachFailed(ctx, d.OutreachTo, err)
	}
	r.packet.Action.Sent = &review.OutreachSent{To: res.To, MessageID: res.MessageID, At: workflow.Now(ctx)}
	if err := r.record(ctx, review.EventOutreachSent, "churnwatch", fmt.Sprintf("to %s, Message-ID %s", res.To, res.MessageID)); err != nil {
		return err
	}
	return r.save(ctx)
}

// outreachFailed records a send that failed for good and tells the owner.
// A send whose last attempt never ended (a timeout) may have reached the
// customer, like a claim left by a crash: both say delivery is unknown.
func (r *reviewRun) outreachFailed(ctx workflow.Context, to string, err error) error {
	reason := err.Error()
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		reason = app.Message()
	}
	why := "the approved outreach could not be sent: " + reason + "; send it yourself"
	var timeout *temporal.TimeoutError
	switch {
	case app != nil && app.Type() == ErrOutreachUnknown:
		why = "the approved outreach: " + reason + "; check your sent mail (and the mail server's log) before sending it yourself"
	case errors.As(err, &timeout):
		why = "the approved outreach: delivery unknown, the last attempt did not finish in time; check your sent mail (and the mail server's log) before sending it yourself"
	}
	workflow.GetLogger(ctx).Warn("outreach not sent", "review_id", r.in.ReviewID, "error", err)
	r.notify(ctx, r.in.Owner, review.EventOutreachFailed, fmt.Sprintf("%s (to %s): %s", r.in.AccountName, to, why))
	return r.record(ctx, review.EventOutreachFailed, "churnwatch", "to "+to+": "+why)
}

// withOutreachActivityOptions bounds the send: a few attempts within ten
// minutes, so a mail server that is down ends in a reported failure, not
// a review held for ever. An attempt gets longer than one SMTP exchange
// (notify.timeout): one that outlives it is taken for a crash, and the
// retry reports delivery unknown rather than send again.
func withOutreachActivityOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    2 * time.Minute,
		ScheduleToCloseTimeout: 10 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        5 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			MaximumAttempts:        5,
			NonRetryableErrorTypes: []string{ErrOutreachRefused, ErrOutreachUnknown},
		},
	})
}
