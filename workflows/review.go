package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
)

// Search attribute keys the review keeps current.
var (
	AccountIDKey   = temporal.NewSearchAttributeKeyKeyword(AttrAccountID)
	OwnerKey       = temporal.NewSearchAttributeKeyKeyword(AttrOwner)
	RiskTierKey    = temporal.NewSearchAttributeKeyKeyword(AttrRiskTier)
	RiskScoreKey   = temporal.NewSearchAttributeKeyInt64(AttrRiskScore)
	ReviewStateKey = temporal.NewSearchAttributeKeyKeyword(AttrReviewState)
)

// AccountReview takes one at-risk account through gather evidence → score →
// draft → the CSM's approval gate → action → follow-up → outcome. Nothing
// reaches the customer and no risk status changes without the CSM's decision;
// a late decision is chased, then escalated, and never taken by default.
func AccountReview(ctx workflow.Context, in ReviewInput) (review.Packet, error) {
	// The run ID only goes into activity inputs (event keys), which replay
	// does not compare: no version gate needed.
	r := &reviewRun{in: in, runID: workflow.GetInfo(ctx).WorkflowExecution.RunID, seq: map[review.EventKind]int{}}
	if in.Resume != nil {
		return r.resume(ctx)
	}
	r.packet = review.Packet{
		ReviewID:    in.ReviewID,
		AccountID:   in.AccountID,
		AccountName: in.AccountName,
		Owner:       in.Owner,
		Cycle:       in.Cycle,
		State:       review.Drafting,
		Event:       in.Event,
		Severity:    in.Tier,
		Escalation:  review.Escalation{Path: escalationPath(in)},
		CreatedAt:   workflow.Now(ctx),
	}
	if err := r.registerHandlers(ctx); err != nil {
		return r.packet, err
	}
	ctx = withDefaultActivityOptions(ctx)

	var ev Evidence
	if err := workflow.ExecuteActivity(ctx, ActGatherEvidence, EvidenceRequest{AccountID: in.AccountID, AsOf: in.Cycle}).Get(ctx, &ev); err != nil {
		return r.packet, r.refuseOversize(ctx, fmt.Errorf("gather evidence: %w", err))
	}
	// Scoring is pure and fast: a local activity, no round trip to the server.
	var a risk.Assessment
	if err := workflow.ExecuteLocalActivity(withLocalActivityOptions(ctx), ActScoreAccount, ev).Get(ctx, &a); err != nil {
		return r.packet, r.refuseOversize(ctx, fmt.Errorf("score: %w", err))
	}
	r.packet.Assessment = a
	r.packet.Severity = a.Tier

	// Record the flag while the drafts are written: the three are independent.
	saved, flagged := r.saveAsync(ctx), r.recordAsync(ctx, review.EventFlagged, "churnwatch", in.Event)
	d := r.draft(ctx, a)
	if err := wait(ctx, saved, flagged); err != nil {
		return r.packet, err
	}
	r.packet.Draft = &d
	r.packet.State = review.AwaitingApproval
	if workflow.GetVersion(ctx, versionDraftingState, workflow.DefaultVersion, 1) == 1 {
		// Reviews recorded before this change were listed as awaiting
		// approval from the start and never upserted it here.
		if err := workflow.UpsertTypedSearchAttributes(ctx, ReviewStateKey.ValueSet(string(review.AwaitingApproval))); err != nil {
			return r.packet, fmt.Errorf("upsert search attributes: %w", err)
		}
	}
	note := r.notifyAsync(ctx, in.Owner, review.EventFlagged, fmt.Sprintf("%s is %s (score %d): the review brief and drafts are ready for your decision", in.AccountName, a.Tier, a.Score))
	if err := wait(ctx, r.saveAsync(ctx), r.recordAsync(ctx, review.EventDrafted, "churnwatch", d.Drafter)); err != nil {
		return r.packet, err
	}
	r.logNotice(ctx, note)
	return r.decideAndFollowUp(ctx)
}

// decideAndFollowUp takes a drafted review through the approval gate, the
// action and the outcome.
func (r *reviewRun) decideAndFollowUp(ctx workflow.Context) (review.Packet, error) {
	if err := r.awaitDecision(ctx); err != nil {
		return r.packet, err
	}
	if r.packet.Decision.Kind == review.Reject {
		return r.finish(ctx)
	}
	if err := r.assignAction(ctx); err != nil {
		return r.packet, err
	}
	if err := r.sendOutreach(ctx); err != nil {
		return r.packet, err
	}
	if err := r.awaitOutcome(ctx); err != nil {
		return r.packet, err
	}
	return r.finish(ctx)
}

// versionPayloadRefusal gates what a review does when its evidence is over
// the payload limit: say so on the packet and to the owner, then end.
// Before it, such an activity was retried for ever.
const versionPayloadRefusal = "payload-refusal"

// refuseOversize returns err, having first, when err is a payload over the
// limit, saved the packet with the failure and told the owner, so that the
// review shows why it has no drafts instead of waiting for them for ever.
func (r *reviewRun) refuseOversize(ctx workflow.Context, err error) error {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != ErrPayloadTooLarge {
		return err
	}
	if workflow.GetVersion(ctx, versionPayloadRefusal, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return err
	}
	r.packet.Failure = "evidence too large to carry: " + rootCause(err)
	saved := r.saveAsync(ctx)
	r.notify(ctx, r.in.Owner, review.EventFlagged, fmt.Sprintf("The review of %s cannot go on: %s", r.in.AccountName, r.packet.Failure))
	if serr := saved.Get(ctx, nil); serr != nil {
		workflow.GetLogger(ctx).Warn("saving the refused review failed", "review_id", r.in.ReviewID, "error", serr)
	}
	return temporal.NewNonRetryableApplicationError(r.packet.Failure, ErrPayloadTooLarge, err)
}

// versionDraftingState gates the upsert that moves a review from drafting to
// awaiting_approval once its drafts exist.
const versionDraftingState = "drafting-state"

// reviewRun is the state of one AccountReview.
type reviewRun struct {
	in     ReviewInput
	runID  string // this run's, in the event keys
	packet review.Packet
	seq    map[review.EventKind]int // per-kind event counters, for idempotency keys
	// decisions and outcomes are the signal channels; the wait that
	// continues as new drains them first.
	decisions, outcomes workflow.ReceiveChannel
	// resumeWait is what was left of the wait a resumed run was in, taken
	// by its first wait (nil once taken, and in a run that did not resume).
	resumeWait *time.Duration
}

func escalationPath(in ReviewInput) []string {
	path := []string{in.Owner}
	manager := in.Policy.Manager(in.Owner)
	if manager != "" && manager != in.Owner {
		path = append(path, manager)
	}
	for _, l := range in.Policy.Leaders {
		if l != in.Owner && l != manager {
			path = append(path, l)
		}
	}
	return path
}

func (r *reviewRun) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (review.State, error) {
		return r.packet.State, nil
	}); err != nil {
		return err
	}
	if err := workflow.SetQueryHandler(ctx, QueryPacket, func() (review.Packet, error) {
		return r.packet, nil
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateDecide,
		func(ctx workflow.Context, d review.Decision) (review.Packet, error) {
			r.acceptDecision(ctx, d)
			// Answer once the main flow has acted on the decision, so the
			// caller sees the resulting state.
			err := workflow.Await(ctx, func() bool { return r.packet.State != review.AwaitingApproval })
			return r.packet, err
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, d review.Decision) error {
			return r.checkDecision(d)
		}},
	); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateOutcome,
		func(ctx workflow.Context, o review.Outcome) (review.Packet, error) {
			o.At = workflow.Now(ctx)
			r.packet.Outcome = &o
			err := workflow.Await(ctx, func() bool { return r.packet.State == review.Closed })
			return r.packet, err
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, o review.Outcome) error {
			return r.checkOutcome(o)
		}},
	); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateProgress,
		func(ctx workflow.Context, p review.Progress) (review.Packet, error) {
			err := r.record(withDefaultActivityOptions(ctx), p.Kind, p.Actor, p.Note)
			return r.packet, err
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, p review.Progress) error {
			return r.checkProgress(p)
		}},
	); err != nil {
		return err
	}

	// Signals of the same shape, for fire-and-forget clients. They pass the
	// same checks; one that fails is logged and ignored. A signal stays in
	// its channel until taken (a selector would hold it out of sight), so
	// that the wait that continues as new can take it first.
	r.decisions = workflow.GetSignalChannel(ctx, SignalDecide)
	r.outcomes = workflow.GetSignalChannel(ctx, SignalOutcome)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			if err := workflow.Await(ctx, func() bool { return r.decisions.Len() > 0 || r.outcomes.Len() > 0 }); err != nil {
				return
			}
			r.takeSignals(ctx)
		}
	})
	return nil
}

// takeSignals applies the decision and outcome signals received so far.
func (r *reviewRun) takeSignals(ctx workflow.Context) {
	for {
		var d review.Decision
		if !r.decisions.ReceiveAsync(&d) {
			break
		}
		if err := r.checkDecision(d); err != nil {
			workflow.GetLogger(ctx).Warn("decision signal refused", "review_id", r.in.ReviewID, "actor", d.Actor, "error", err)
			continue
		}
		r.acceptDecision(ctx, d)
	}
	for {
		var o review.Outcome
		if !r.outcomes.ReceiveAsync(&o) {
			break
		}
		if err := r.checkOutcome(o); err != nil {
			workflow.GetLogger(ctx).Warn("outcome signal refused", "review_id", r.in.ReviewID, "actor", o.Actor, "error", err)
			continue
		}
		o.At = workflow.Now(ctx)
		r.packet.Outcome = &o
	}
}

// checkDecision is the approval gate's validator: it refuses a decision the
// workflow must not take, before it enters history.
func (r *reviewRun) checkDecision(d review.Decision) error {
	if prev := r.packet.Decision; prev != nil {
		return refused(review.RefusedConflict, "review %s was already decided (%s by %s)", r.in.ReviewID, prev.Kind, prev.Actor)
	}
	if r.packet.Draft == nil {
		return refused(review.RefusedConflict, "review %s is still gathering evidence and drafting; decide once its brief is ready", r.in.ReviewID)
	}
	if err := d.Validate(); err != nil {
		return refused(review.RefusedInvalid, "%v", err)
	}
	if !r.mayAct(d.Actor, d.Authority) {
		return refused(review.RefusedForbidden, "%s may not decide review %s: only its owner %s, their manager or a leader (%s) may", d.Actor, r.in.ReviewID, r.in.Owner, strings.Join(r.in.Policy.Leaders, ", "))
	}
	return nil
}

// refused is a validator's refusal, typed so callers can tell a conflict
// from a forbidden or invalid request.
func refused(kind, format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), kind, nil)
}

// mayAct reports whether actor may decide, record progress or record the
// outcome. The worker's decision service judges people against its own
// user record and says so in authority; a decision sent straight through
// Temporal (an administrator's path) is checked against the review's policy.
func (r *reviewRun) mayAct(actor, authority string) bool {
	if authority != "" {
		return true
	}
	return r.in.Policy.MayDecide(actor, r.in.Owner) || actor == r.in.Policy.Manager(r.in.Owner)
}

func (r *reviewRun) acceptDecision(ctx workflow.Context, d review.Decision) {
	d.At = workflow.Now(ctx)
	r.packet.Decision = &d
}

func (r *reviewRun) checkOutcome(o review.Outcome) error {
	if r.packet.State != review.ActionAssigned && r.packet.State != review.AwaitingOutcome {
		return refused(review.RefusedConflict, "review %s is %s: an outcome is recorded once an action is assigned", r.in.ReviewID, r.packet.State)
	}
	if r.packet.Outcome != nil {
		return refused(review.RefusedConflict, "review %s already has an outcome (%s by %s)", r.in.ReviewID, r.packet.Outcome.Kind, r.packet.Outcome.Actor)
	}
	if err := o.Validate(); err != nil {
		return refused(review.RefusedInvalid, "%v", err)
	}
	if !r.mayAct(o.Actor, o.Authority) {
		return refused(review.RefusedForbidden, "%s may not record the outcome of review %s: only its owner %s, their manager or a leader may", o.Actor, r.in.ReviewID, r.in.Owner)
	}
	return nil
}

func (r *reviewRun) checkProgress(p review.Progress) error {
	if p.Kind != review.EventOutreachSent && p.Kind != review.EventCustomerResponded {
		return refused(review.RefusedInvalid, "unknown progress %q (want outreach_sent or customer_responded)", p.Kind)
	}
	if r.packet.State != review.ActionAssigned && r.packet.State != review.AwaitingOutcome {
		return refused(review.RefusedConflict, "review %s is %s: progress is recorded once an action is assigned", r.in.ReviewID, r.packet.State)
	}
	if !r.mayAct(p.Actor, p.Authority) {
		return refused(review.RefusedForbidden, "%s may not record progress on review %s", p.Actor, r.in.ReviewID)
	}
	return nil
}

// draft asks the LLM drafter when one is configured, and falls back to the
// offline drafter, with a note saying why, when the LLM fails for good.
func (r *reviewRun) draft(ctx workflow.Context, a risk.Assessment) review.Draft {
	req := DraftRequest{ReviewID: r.in.ReviewID, Owner: r.in.Owner, Manager: r.in.Policy.Manager(r.in.Owner), Assessment: a}
	var d review.Draft
	if q := r.in.Policy.LLMTaskQueue; q != "" {
		err := workflow.ExecuteActivity(withLLMActivityOptions(ctx, q), ActDraft, req).Get(ctx, &d)
		if err == nil {
			return d
		}
		req.FallbackReason = "the LLM drafter failed: " + rootCause(err)
		workflow.GetLogger(ctx).Warn("LLM drafting failed; drafting offline", "review_id", r.in.ReviewID, "error", err)
	}
	// The offline drafter is local and deterministic: retried until it works.
	if err := workflow.ExecuteActivity(ctx, ActDraftOffline, req).Get(ctx, &d); err != nil {
		// Only a cancelled workflow gets here; keep the packet honest.
		d = review.Draft{Drafter: "none", Notes: []string{"no draft could be written: " + err.Error()}}
	}
	return d
}

func rootCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

// awaitDecision waits for the CSM. Past the tier's SLA it reminds the owner;
// after the grace period it escalates to the manager and keeps reminding.
// It never decides on anybody's behalf.
func (r *reviewRun) awaitDecision(ctx workflow.Context) error {
	decided := func() bool { return r.packet.Decision != nil }
	wait := r.firstWait(r.in.Policy.SLA(r.packet.Severity))
	for !decided() {
		ok, err := r.awaitBounded(ctx, wait, decided)
		if err != nil {
			return err
		}
		if ok {
			break
		}
		if r.packet.Escalation.Level == 0 {
			r.remind(ctx, r.in.Owner, fmt.Sprintf("Review of %s (%s) is past its %s SLA and waits for your decision", r.in.AccountName, r.packet.Severity, r.in.Policy.SLA(r.packet.Severity)))
		} else {
			r.escalate(ctx)
		}
		wait = r.in.Policy.ReminderGrace
	}
	d := r.packet.Decision
	if err := r.record(ctx, review.EventReviewed, d.Actor, string(d.Kind)); err != nil {
		return err
	}
	if d.Kind == review.Reject {
		// A rejection is the CSM saying the model was wrong: a candidate
		// false positive for tuning, not a failure.
		workflow.GetLogger(ctx).Info("review rejected: candidate false positive", "review_id", r.in.ReviewID, "actor", d.Actor, "reason", d.Reason)
		if err := r.record(ctx, review.EventRiskRejected, d.Actor, "candidate false positive: "+d.Reason); err != nil {
			return err
		}
		return r.setState(ctx, review.Rejected)
	}
	if err := r.record(ctx, review.EventRiskConfirmed, d.Actor, d.ConfirmedCause); err != nil {
		return err
	}
	return r.setState(ctx, review.Approved)
}

func (r *reviewRun) remind(ctx workflow.Context, to, message string) {
	r.packet.Escalation.Level = 1
	r.packet.Escalation.RemindedAt = append(r.packet.Escalation.RemindedAt, workflow.Now(ctx))
	r.notify(ctx, to, review.EventReminded, message)
	_ = r.record(ctx, review.EventReminded, "churnwatch", "to "+to)
	_ = r.save(ctx)
}

func (r *reviewRun) escalate(ctx workflow.Context) {
	to := r.in.Policy.Manager(r.in.Owner)
	if r.packet.Escalation.Level == 2 && r.escalateToLeaders(ctx) {
		return
	}
	if r.packet.Escalation.Level >= 2 {
		// Already escalated: remind the owner and the manager again.
		r.notify(ctx, r.in.Owner, review.EventReminded, fmt.Sprintf("Review of %s still waits for a decision (escalated to %s)", r.in.AccountName, to))
		r.notify(ctx, to, review.EventReminded, fmt.Sprintf("Escalated review of %s still waits for a decision by %s", r.in.AccountName, r.in.Owner))
		_ = r.record(ctx, review.EventReminded, "churnwatch", "to "+r.in.Owner+" and "+to)
		return
	}
	now := workflow.Now(ctx)
	r.packet.Escalation.Level = 2
	r.packet.Escalation.EscalatedTo = to
	r.packet.Escalation.EscalatedAt = &now
	r.notify(ctx, to, review.EventEscalated, fmt.Sprintf("%s owns the %s review of %s (score %d), undecided past SLA and reminder", r.in.Owner, r.packet.Severity, r.in.AccountName, r.packet.Assessment.Score))
	_ = r.record(ctx, review.EventEscalated, "churnwatch", "to "+to)
	_ = r.save(ctx)
}

// versionLeaderEscalation gates the third level: the leaders of the path
// told one grace period after the manager. Reviews recorded before it went
// on reminding the owner and the manager only.
const versionLeaderEscalation = "leader-escalation"

// escalateToLeaders tells the leaders named in the escalation path, past the
// owner and the manager, that the review is still undecided. It reports
// false, doing nothing, when the path names no such leader or the review
// was recorded before leaders were told.
func (r *reviewRun) escalateToLeaders(ctx workflow.Context) bool {
	manager := r.in.Policy.Manager(r.in.Owner)
	var leaders []string
	for _, p := range r.packet.Escalation.Path {
		if p != r.in.Owner && p != manager {
			leaders = append(leaders, p)
		}
	}
	if len(leaders) == 0 || workflow.GetVersion(ctx, versionLeaderEscalation, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return false
	}
	now := workflow.Now(ctx)
	r.packet.Escalation.Level = 3
	r.packet.Escalation.Leaders = leaders
	r.packet.Escalation.LeadersAt = &now
	msg := fmt.Sprintf("%s owns the %s review of %s (score %d), still undecided after the reminder and the escalation to %s", r.in.Owner, r.packet.Severity, r.in.AccountName, r.packet.Assessment.Score, manager)
	notes := make([]workflow.Future, len(leaders))
	for i, l := range leaders {
		notes[i] = r.notifyAsync(ctx, l, review.EventEscalated, msg)
	}
	for _, f := range notes {
		r.logNotice(ctx, f)
	}
	_ = r.record(ctx, review.EventEscalated, "churnwatch", "to leaders "+strings.Join(leaders, ", "))
	_ = r.save(ctx)
	return true
}

// assignAction turns the approved plan into the owner's action and sets the
// follow-up date.
func (r *reviewRun) assignAction(ctx workflow.Context) error {
	now := workflow.Now(ctx)
	d := r.packet.Decision
	outreach := r.packet.Draft.Outreach
	if d.EditedOutreach != nil {
		outreach = *d.EditedOutreach
	}
	followUp := now.Add(r.in.Policy.FollowUpAfter)
	r.packet.Action = &review.Action{
		Owner:    r.in.Owner,
		Due:      now.Add(r.in.Policy.SLA(r.packet.Severity)),
		FollowUp: followUp,
		Plan:     r.packet.Draft.SavePlan,
		Outreach: outreach,
	}
	r.packet.FollowUpDate = followUp.UTC().Format(time.DateOnly)
	r.notify(ctx, r.in.Owner, review.EventActionAssigned, fmt.Sprintf("Save plan for %s approved: first steps due %s, outcome due %s. %s", r.in.AccountName, r.packet.Action.Due.UTC().Format(time.DateOnly), r.packet.FollowUpDate, r.outreachNote()))
	if err := r.record(ctx, review.EventActionAssigned, d.Actor, "follow-up "+r.packet.FollowUpDate); err != nil {
		return err
	}
	return r.setState(ctx, review.ActionAssigned)
}

// awaitOutcome waits until the follow-up date (an outcome may come earlier),
// then asks for the outcome and chases it until it is recorded.
func (r *reviewRun) awaitOutcome(ctx workflow.Context) error {
	recorded := func() bool { return r.packet.Outcome != nil }
	// A resumed run past the follow-up date goes straight back to chasing.
	if r.packet.State != review.AwaitingOutcome {
		ok, err := r.awaitBounded(ctx, r.firstWait(r.in.Policy.FollowUpAfter), recorded)
		if err != nil || ok {
			return err
		}
		if err := r.setState(ctx, review.AwaitingOutcome); err != nil {
			return err
		}
		r.notify(ctx, r.in.Owner, review.EventReminded, fmt.Sprintf("Follow-up date for %s: record the outcome (saved, churned, still_at_risk, false_positive)", r.in.AccountName))
	}
	wait := r.firstWait(r.in.Policy.OutcomeReminder)
	for {
		ok, err := r.awaitBounded(ctx, wait, recorded)
		if err != nil || ok {
			return err
		}
		r.remind(ctx, r.in.Owner, fmt.Sprintf("The outcome of the %s review is still missing", r.in.AccountName))
		wait = r.in.Policy.OutcomeReminder
	}
}

// historyBound is the history length (events) past which a review waiting
// for a decision or an outcome continues as new. The length is checked on
// every workflow task of a wait, and the most a review adds between two
// waits is about 65 events (a reminder cycle 23, as recorded in testdata;
// a decision through to the assigned action about 45, with the outreach
// sent about 65; the leaders' step 3 to 6 per leader, once), so a run
// closes below about bound+70 events: far from Temporal's 10,240-event
// warning and 51,200-event limit. Events, not reminder cycles, because
// updates (progress notes) and leaders add events no cycle count sees.
// A variable so that tests can lower it.
var historyBound = 5000

// versionContinueAsNew gates the continue-as-new of a long wait. Reviews
// recorded before it waited in one run for ever.
const versionContinueAsNew = "continue-as-new"

// awaitBounded is workflow.AwaitWithTimeout(ctx, d, done), except that once
// the history passes historyBound, with no update handler running, it
// continues the review as new, carrying what is left of d: it then returns
// the *workflow.ContinueAsNewError. A signal taken during the switch is
// applied first; if it is what was awaited, the run goes on instead.
func (r *reviewRun) awaitBounded(ctx workflow.Context, d time.Duration, done func() bool) (bool, error) {
	if workflow.GetVersion(ctx, versionContinueAsNew, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return workflow.AwaitWithTimeout(ctx, d, done)
	}
	deadline := workflow.Now(ctx).Add(d)
	full := func() bool {
		return workflow.GetInfo(ctx).GetCurrentHistoryLength() > historyBound && workflow.AllHandlersFinished(ctx)
	}
	ok, err := workflow.AwaitWithTimeout(ctx, d, func() bool { return done() || full() })
	if err != nil || !ok || done() {
		return ok, err
	}
	r.takeSignals(ctx)
	if done() {
		return true, nil
	}
	in := r.in
	in.Resume = &Resume{Packet: r.packet, Seq: r.seq, Wait: max(deadline.Sub(workflow.Now(ctx)), 0)}
	workflow.GetLogger(ctx).Info("review continues as new", "review_id", r.in.ReviewID, "state", r.packet.State,
		"history_length", workflow.GetInfo(ctx).GetCurrentHistoryLength(), "wait", in.Resume.Wait)
	return false, workflow.NewContinueAsNewError(ctx, ReviewWorkflow, in)
}

// firstWait is what is left of the wait a resumed run was in, the first
// time it is asked, and d otherwise.
func (r *reviewRun) firstWait(d time.Duration) time.Duration {
	if w := r.resumeWait; w != nil {
		r.resumeWait = nil
		return *w
	}
	return d
}

// resume picks up a review that continued as new where it was: the packet,
// counters and search attributes as they were, its handlers registered
// again, and straight back to the wait it was in, skipping the drafting.
func (r *reviewRun) resume(ctx workflow.Context) (review.Packet, error) {
	res := r.in.Resume
	r.packet = res.Packet
	if res.Seq != nil {
		r.seq = res.Seq
	}
	r.resumeWait = &res.Wait
	if err := r.registerHandlers(ctx); err != nil {
		return r.packet, err
	}
	ctx = withDefaultActivityOptions(ctx)
	if err := r.upsertState(ctx); err != nil {
		return r.packet, err
	}
	switch r.packet.State {
	case review.AwaitingApproval:
		return r.decideAndFollowUp(ctx)
	case review.ActionAssigned, review.AwaitingOutcome:
		if err := r.awaitOutcome(ctx); err != nil {
			return r.packet, err
		}
		return r.finish(ctx)
	}
	return r.packet, temporal.NewNonRetryableApplicationError(fmt.Sprintf("review %s resumed in state %s, which has no wait", r.in.ReviewID, r.packet.State), "BadResume", nil)
}

var outcomeEvents = map[review.OutcomeKind]review.EventKind{
	review.Saved:         review.EventSaved,
	review.Churned:       review.EventChurned,
	review.StillAtRisk:   review.EventStillAtRisk,
	review.FalsePositive: review.EventFalsePositive,
}

// finish records the outcome, if any, closes the packet and waits for
// running update handlers so their callers get an answer.
func (r *reviewRun) finish(ctx workflow.Context) (review.Packet, error) {
	if o := r.packet.Outcome; o != nil {
		if err := r.record(ctx, outcomeEvents[o.Kind], o.Actor, o.Note); err != nil {
			return r.packet, err
		}
		if err := r.setState(ctx, review.Closed); err != nil {
			return r.packet, err
		}
	}
	err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	return r.packet, err
}

// setState moves the review on, saves the packet and updates the search
// attributes that `reviews list` reads.
func (r *reviewRun) setState(ctx workflow.Context, s review.State) error {
	r.packet.State = s
	if err := r.upsertState(ctx); err != nil {
		return err
	}
	return r.save(ctx)
}

// upsertState sets the search attributes that `reviews list` reads from
// the packet.
func (r *reviewRun) upsertState(ctx workflow.Context) error {
	if err := workflow.UpsertTypedSearchAttributes(ctx,
		ReviewStateKey.ValueSet(string(r.packet.State)),
		RiskTierKey.ValueSet(string(r.packet.Severity)),
		RiskScoreKey.ValueSet(int64(r.packet.Assessment.Score)),
	); err != nil {
		return fmt.Errorf("upsert search attributes: %w", err)
	}
	return nil
}

func (r *reviewRun) save(ctx workflow.Context) error {
	return wait(ctx, r.saveAsync(ctx))
}

// saveAsync stores the packet as it is now.
func (r *reviewRun) saveAsync(ctx workflow.Context) workflow.Future {
	r.packet.UpdatedAt = workflow.Now(ctx)
	return labelled(ctx, "save packet", workflow.ExecuteActivity(ctx, ActSavePacket, r.packet))
}

// record appends a measurement event with a key that makes it idempotent.
func (r *reviewRun) record(ctx workflow.Context, kind review.EventKind, actor, detail string) error {
	return wait(ctx, r.recordAsync(ctx, kind, actor, detail))
}

func (r *reviewRun) recordAsync(ctx workflow.Context, kind review.EventKind, actor, detail string) workflow.Future {
	r.seq[kind]++
	e := review.Event{
		Key:       review.EventKey(r.in.ReviewID, r.runID, kind, r.seq[kind]),
		ReviewID:  r.in.ReviewID,
		AccountID: r.in.AccountID,
		Kind:      kind,
		Actor:     actor,
		At:        workflow.Now(ctx),
		Detail:    detail,
	}
	return labelled(ctx, "record "+string(kind)+" event", workflow.ExecuteActivity(ctx, ActRecordEvent, e))
}

// notify tells a person inside the team. A failed notice is logged and does
// not stop the review.
func (r *reviewRun) notify(ctx workflow.Context, to string, kind review.EventKind, message string) {
	r.logNotice(ctx, r.notifyAsync(ctx, to, kind, message))
}

func (r *reviewRun) notifyAsync(ctx workflow.Context, to string, kind review.EventKind, message string) workflow.Future {
	n := review.Notice{ReviewID: r.in.ReviewID, To: to, Kind: kind, Message: message}
	return labelled(ctx, "notify "+to, workflow.ExecuteActivity(ctx, ActNotify, n))
}

func (r *reviewRun) logNotice(ctx workflow.Context, f workflow.Future) {
	if err := f.Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("notice failed", "review_id", r.in.ReviewID, "error", err)
	}
}

// labelled wraps a future so its error says which step failed.
func labelled(ctx workflow.Context, what string, f workflow.Future) workflow.Future {
	out, set := workflow.NewFuture(ctx)
	workflow.Go(ctx, func(ctx workflow.Context) {
		err := f.Get(ctx, nil)
		if err != nil {
			err = fmt.Errorf("%s: %w", what, err)
		}
		set.Set(nil, err)
	})
	return out
}

// wait waits for every future and returns the first error.
func wait(ctx workflow.Context, fs ...workflow.Future) error {
	var first error
	for _, f := range fs {
		if err := f.Get(ctx, nil); err != nil && first == nil {
			first = err
		}
	}
	return first
}
