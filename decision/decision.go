// Package decision is the one way people act on a review: the pages, the
// API and the CLI (through the API) all call a Service with the signed-in
// user. The service judges from the worker's own user record and config
// whether that user may act, and sends the review's Temporal Update with an
// update ID, so a double click or a retried request decides once. The actor
// recorded in the packet is always the signed-in user, never a form field.
package decision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/churnwatch/churnwatch/identity"
	"github.com/churnwatch/churnwatch/metrics"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/workflows"
)

// Service decides reviews on people's behalf.
type Service struct {
	Temporal client.Client
	Store    store.Store
	// Leaders and Managers are the config's review.leaders and
	// review.managers; the user record's roles and managers count too.
	Leaders  []string
	Managers map[string]string
	Logger   *slog.Logger
	// Metrics observes the time to each decision; nil records nothing.
	Metrics *metrics.Metrics
	// Now is the clock for refusal events; nil = time.Now.
	Now func() time.Time
}

// Request is a decision as a person makes it on the page or through the API.
type Request struct {
	Decision string        `json:"decision"` // approve or reject
	Outreach *review.Email `json:"outreach,omitempty"`
	Cause    string        `json:"cause,omitempty"`
	Reason   string        `json:"reason,omitempty"`
	Note     string        `json:"note,omitempty"`
	// OutreachTo is the customer contact Churnwatch emails the approved
	// outreach to, when the worker sends outreach (notify.send_outreach);
	// SendMyself keeps the sending with the CSM. Both count on approval only.
	OutreachTo string `json:"outreach_to,omitempty"`
	SendMyself bool   `json:"send_myself,omitempty"`
}

// Error is a refusal with the HTTP status it maps to: 403 (not theirs),
// 404 (no such review), 409 (already decided, still drafting, wrong state)
// or 422 (a missing or wrong field). Nothing changed when one is returned.
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

func refuse(status int, format string, args ...any) *Error {
	return &Error{Status: status, Msg: fmt.Sprintf(format, args...)}
}

// StatusOf is the HTTP status for err: the refusal's, or 500.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return http.StatusInternalServerError
}

// UpdateTimeout bounds how long a decision waits for its review to answer.
var UpdateTimeout = 30 * time.Second

// Explained reports whether err is a refusal whose message is meant for
// the person who asked (every 4xx, and a 503 when the review did not
// answer); other errors are logged and answered in general terms.
func Explained(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// MaxField bounds every free-text field of a request, so no form can grow
// a packet past what Temporal carries.
const MaxField = 20_000

// Authority says whether u may act on a review owned by owner, and as what
// (owner, manager, leader or admin).
func (s *Service) Authority(ctx context.Context, u identity.User, owner string) (string, bool, error) {
	if u.Disabled {
		return "", false, nil
	}
	if slices.Contains(s.Leaders, u.Name) && u.Name != owner {
		return "leader", true, nil
	}
	manager := s.Managers[owner]
	o, err := s.Store.User(ctx, owner)
	switch {
	case err == nil && o.Manager != "":
		manager = o.Manager
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return "", false, fmt.Errorf("look up the owner %s: %w", owner, err)
	}
	a, ok := u.Authority(owner, manager)
	return a, ok, nil
}

// OpenStates are the states that wait on a person's decision.
var OpenStates = []review.State{review.Drafting, review.AwaitingApproval}

// Scope is the owners whose reviews u sees and may decide: nil for
// everybody (leaders and admins), else their own and, for a manager, their
// team's. The pages and the daily digest both list by it.
func (s *Service) Scope(ctx context.Context, u identity.User) ([]string, error) {
	if u.SeesAll() || slices.Contains(s.Leaders, u.Name) {
		return nil, nil
	}
	owners := []string{u.Name}
	if u.Role == identity.Manager {
		team, err := s.Store.TeamOf(ctx, u.Name)
		if err != nil {
			return nil, err
		}
		owners = append(owners, team...)
		for owner, manager := range s.Managers {
			if manager == u.Name && !slices.Contains(owners, owner) {
				owners = append(owners, owner)
			}
		}
	}
	return owners, nil
}

// Packet returns a review's packet if u may see it. Who may see a review is
// who may decide it: leaders and admins every review, a manager the team's,
// a CSM their own. Customer notes and drafts are not for the whole company.
func (s *Service) Packet(ctx context.Context, u identity.User, reviewID string) (review.Packet, error) {
	p, _, err := s.authorize(ctx, u, reviewID, "see")
	return p, err
}

func (s *Service) packet(ctx context.Context, reviewID string) (review.Packet, error) {
	p, err := s.Store.Packet(ctx, reviewID)
	if errors.Is(err, store.ErrNotFound) {
		return p, refuse(http.StatusNotFound, "no review %s", reviewID)
	}
	if err != nil {
		return p, fmt.Errorf("read review %s: %w", reviewID, err)
	}
	return p, nil
}

// Decide approves (with the outreach as edited) or rejects a review as u.
// updateID makes the decision idempotent: the same ID decides once, and a
// repeat gets the first answer. An empty updateID gets a fresh one.
func (s *Service) Decide(ctx context.Context, u identity.User, reviewID string, req Request, updateID string) (review.Packet, error) {
	p, authority, err := s.authorize(ctx, u, reviewID, "decide")
	if err != nil {
		return p, err
	}
	d, err := s.decisionFor(u, p, req)
	if err != nil {
		s.refused(ctx, u, p, err)
		return p, err
	}
	d.Authority = authority
	if p.Decision != nil && updateID == "" {
		err := refuse(http.StatusConflict, "review %s was already decided (%s by %s)", reviewID, p.Decision.Kind, p.Decision.Actor)
		s.refused(ctx, u, p, err)
		return p, err
	}
	out, err := s.update(ctx, u, p, workflows.UpdateDecide, d, updateID)
	if err == nil && p.Decision == nil { // a repeated update ID answers again; count it once
		s.Metrics.Decided(out)
	}
	return out, err
}

// Progress records outreach_sent or customer_responded as u.
func (s *Service) Progress(ctx context.Context, u identity.User, reviewID, event, note, updateID string) (review.Packet, error) {
	p, authority, err := s.authorize(ctx, u, reviewID, "record progress on")
	if err != nil {
		return p, err
	}
	if err := checkText(map[string]string{"note": note}); err != nil {
		return p, err
	}
	pr := review.Progress{Kind: review.EventKind(event), Actor: u.Name, Note: note, Authority: authority}
	if pr.Kind != review.EventOutreachSent && pr.Kind != review.EventCustomerResponded {
		return p, refuse(http.StatusUnprocessableEntity, "event %q is not outreach_sent or customer_responded", event)
	}
	return s.update(ctx, u, p, workflows.UpdateProgress, pr, updateID)
}

// Outcome records what happened to the account as u.
func (s *Service) Outcome(ctx context.Context, u identity.User, reviewID, result, note, updateID string) (review.Packet, error) {
	p, authority, err := s.authorize(ctx, u, reviewID, "record the outcome of")
	if err != nil {
		return p, err
	}
	if err := checkText(map[string]string{"note": note}); err != nil {
		return p, err
	}
	o := review.Outcome{Kind: review.OutcomeKind(result), Actor: u.Name, Note: note, Authority: authority}
	if err := o.Validate(); err != nil {
		return p, refuse(http.StatusUnprocessableEntity, "%v", err)
	}
	return s.update(ctx, u, p, workflows.UpdateOutcome, o, updateID)
}

// authorize reads the review and checks that u may act on it.
func (s *Service) authorize(ctx context.Context, u identity.User, reviewID, verb string) (review.Packet, string, error) {
	p, err := s.packet(ctx, reviewID)
	if err != nil {
		return p, "", err
	}
	authority, ok, err := s.Authority(ctx, u, p.Owner)
	if err != nil {
		return p, "", err
	}
	if !ok {
		err := refuse(http.StatusForbidden, "%s may not %s review %s: it belongs to %s", u.Name, verb, reviewID, p.Owner)
		s.refused(ctx, u, p, err)
		return p, "", err
	}
	return p, authority, nil
}

// decisionFor turns a person's request into the gate's Decision: an
// approval whose outreach differs from the draft is an edit, kept as
// approved.
func (s *Service) decisionFor(u identity.User, p review.Packet, req Request) (review.Decision, error) {
	d := review.Decision{Actor: u.Name, Note: strings.TrimSpace(req.Note), ConfirmedCause: strings.TrimSpace(req.Cause)}
	fields := map[string]string{"note": req.Note, "cause": req.Cause, "reason": req.Reason, "outreach_to": req.OutreachTo}
	if req.Outreach != nil {
		fields["outreach_subject"], fields["outreach_body"] = req.Outreach.Subject, req.Outreach.Body
	}
	if err := checkText(fields); err != nil {
		return d, err
	}
	switch req.Decision {
	case "approve":
		d.Kind = review.Approve
		if e := req.Outreach; e != nil && p.Draft != nil && edited(*e, p.Draft.Outreach) {
			if strings.TrimSpace(e.Body) == "" {
				return d, refuse(http.StatusUnprocessableEntity, "outreach_body: the edited outreach is empty")
			}
			email := review.Email{Language: p.Draft.Outreach.Language, Subject: strings.TrimSpace(e.Subject), Body: normalize(e.Body)}
			d.Kind, d.EditedOutreach = review.EditAndApprove, &email
		}
		to, err := outreachRecipient(req.OutreachTo)
		if err != nil {
			return d, err
		}
		d.OutreachTo, d.SendMyself = to, req.SendMyself
	case "reject":
		d.Kind = review.Reject
		d.Reason = strings.TrimSpace(req.Reason)
		if d.Reason == "" {
			return d, refuse(http.StatusUnprocessableEntity, "reason: say why the review is rejected")
		}
	case "":
		return d, refuse(http.StatusUnprocessableEntity, "decision: missing (approve or reject)")
	default:
		return d, refuse(http.StatusUnprocessableEntity, "decision: %q is not approve or reject", req.Decision)
	}
	return d, nil
}

// outreachRecipient checks the address the approved outreach goes to: one
// address, "Name <address>" or bare; empty for none.
func outreachRecipient(to string) (string, error) {
	to = strings.TrimSpace(to)
	if to == "" {
		return "", nil
	}
	if _, err := mail.ParseAddress(to); err != nil {
		return "", refuse(http.StatusUnprocessableEntity, "outreach_to: %q is not one email address: %v", to, err)
	}
	return to, nil
}

// edited reports whether e differs from the draft, ignoring the line
// endings and trailing space a browser's textarea adds.
func edited(e, draft review.Email) bool {
	return strings.TrimSpace(e.Subject) != strings.TrimSpace(draft.Subject) || normalize(e.Body) != normalize(draft.Body)
}

func normalize(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
}

func checkText(fields map[string]string) error {
	for name, v := range fields {
		if len(v) > MaxField {
			return refuse(http.StatusUnprocessableEntity, "%s: %d bytes is over the %d-byte limit", name, len(v), MaxField)
		}
	}
	return nil
}

// update sends the review's Update and waits for its result. A refusal by
// the gate's validator maps to 403, 409 or 422 by its type.
func (s *Service) update(ctx context.Context, u identity.User, p review.Packet, name string, arg any, updateID string) (review.Packet, error) {
	if updateID == "" {
		updateID = uuid.NewString()
	}
	// A person waits on the other end: with Temporal down or no worker
	// polling, answer within UpdateTimeout rather than hold the request.
	// The update ID makes sending the same form again safe.
	uctx, cancel := context.WithTimeout(ctx, UpdateTimeout)
	defer cancel()
	h, err := s.Temporal.UpdateWorkflow(uctx, client.UpdateWorkflowOptions{
		WorkflowID:   p.ReviewID,
		UpdateID:     name + "/" + updateID,
		UpdateName:   name,
		Args:         []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var out review.Packet
	if err == nil {
		err = h.Get(uctx, &out)
	}
	if err != nil && uctx.Err() != nil && ctx.Err() == nil {
		return p, refuse(http.StatusServiceUnavailable, "review %s did not answer within %s (is Temporal up and a worker polling?); nothing was lost: send the same request again and it decides once", p.ReviewID, UpdateTimeout)
	}
	if err != nil {
		err = s.gateError(p.ReviewID, err)
		if StatusOf(err) < 500 {
			s.refused(ctx, u, p, err)
		}
		return p, err
	}
	// The workflow saves this same packet; saving it here too lets the page
	// the browser is sent back to show the decision at once.
	if err := s.Store.SavePacket(ctx, out); err != nil {
		s.logger().Warn("save decided packet", "review_id", p.ReviewID, "error", err)
	}
	s.logger().Info("review acted on", "review_id", p.ReviewID, "update", name, "actor", u.Name, "state", out.State)
	return out, nil
}

func (s *Service) gateError(reviewID string, err error) error {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		switch app.Type() {
		case review.RefusedForbidden:
			return refuse(http.StatusForbidden, "%s", app.Message())
		case review.RefusedConflict:
			return refuse(http.StatusConflict, "%s", app.Message())
		case review.RefusedInvalid:
			return refuse(http.StatusUnprocessableEntity, "%s", app.Message())
		}
	}
	var unavailable *serviceerror.Unavailable
	if errors.As(err, &unavailable) {
		return refuse(http.StatusServiceUnavailable, "Temporal cannot be reached to decide review %s; nothing changed: try again in a moment", reviewID)
	}
	if strings.Contains(err.Error(), "workflow execution already completed") {
		return refuse(http.StatusConflict, "review %s is closed", reviewID)
	}
	return fmt.Errorf("review %s: %w", reviewID, err)
}

// refused writes a refusal to the measurement log.
func (s *Service) refused(ctx context.Context, u identity.User, p review.Packet, err error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	e := review.Event{
		Key:       "refused/" + uuid.NewString(),
		ReviewID:  p.ReviewID,
		AccountID: p.AccountID,
		Kind:      review.EventRefused,
		Actor:     u.Name,
		At:        now(),
		Detail:    fmt.Sprintf("%d: %v", StatusOf(err), err),
	}
	if _, werr := s.Store.AppendEvent(ctx, e); werr != nil {
		s.logger().Warn("record refusal", "review_id", p.ReviewID, "error", werr)
	}
	s.logger().Info("request refused", "review_id", p.ReviewID, "actor", u.Name, "status", StatusOf(err), "reason", err.Error())
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}
