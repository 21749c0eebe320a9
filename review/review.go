// Package review holds the plain types of an account review: the decision
// packet, the CSM's decision, the assigned action, the outcome and the
// measurement events. Workflows, activities, the store and the summaries all
// speak these types; the package imports no Temporal and no I/O.
package review

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/churnwatch/churnwatch/risk"
)

// State is where a review stands. The values are part of the CLI contract.
type State string

const (
	Drafting         State = "drafting"          // until its brief and drafts exist
	AwaitingApproval State = "awaiting_approval" // the drafts exist; the owner decides
	Approved         State = "approved"
	Rejected         State = "rejected"
	ActionAssigned   State = "action_assigned"
	AwaitingOutcome  State = "awaiting_outcome"
	Closed           State = "closed"
)

// States lists every state a review can be in, in the order it moves.
var States = []State{Drafting, AwaitingApproval, Approved, Rejected, ActionAssigned, AwaitingOutcome, Closed}

// ID is the stable workflow ID of an account's review for one cycle (the
// Monday of the scored week), so a rescan never starts a duplicate.
func ID(accountID, cycle string) string { return "review/" + accountID + "/" + cycle }

// NewScanID is a fresh workflow ID for an on-demand scan: every scan runs,
// and what it starts is deduplicated by review ID instead.
func NewScanID() string { return "scan/" + uuid.NewString() }

// PagePath is the path of a review's page among the worker's pages
// (/review/<account>/<cycle>, each part escaped), from its ID.
func PagePath(reviewID string) string {
	rest := strings.TrimPrefix(reviewID, "review/")
	i := strings.LastIndexByte(rest, '/')
	if i < 0 {
		return "/"
	}
	return "/review/" + url.PathEscape(rest[:i]) + "/" + url.PathEscape(rest[i+1:])
}

// PlanStep is one action of the two-week save plan.
type PlanStep struct {
	Day           int      `json:"day"` // days after approval, 0..14
	Action        string   `json:"action"`
	Owner         string   `json:"owner"`
	TalkingPoints []string `json:"talking_points,omitempty"`
	EvidenceIDs   []string `json:"evidence_ids,omitempty"`
}

// Email is a drafted outreach message. It never leaves Churnwatch without a
// CSM's approval.
type Email struct {
	Language string `json:"language"`
	Subject  string `json:"subject"`
	Body     string `json:"body"`
}

// Draft is what the drafter wrote for the CSM: a brief, a two-week save plan,
// an outreach email and a call agenda. SuspectedCause is the drafter's
// hypothesis; only the CSM confirms a cause (Decision.ConfirmedCause).
type Draft struct {
	Brief          string     `json:"brief"`
	BriefCitations []string   `json:"brief_citations"` // evidence (signal) ids the brief cites
	SuspectedCause string     `json:"suspected_cause"`
	SavePlan       []PlanStep `json:"save_plan"`
	Outreach       Email      `json:"outreach"`
	CallAgenda     []string   `json:"call_agenda"`

	Drafter       string   `json:"drafter"` // "offline" or "llm:<model>"
	PromptVersion string   `json:"prompt_version"`
	Notes         []string `json:"notes,omitempty"` // e.g. why an LLM draft was replaced by the offline one
	TokensUsed    int      `json:"tokens_used"`
}

// DecisionKind is the CSM's verdict at the approval gate.
type DecisionKind string

const (
	Approve        DecisionKind = "approve"
	EditAndApprove DecisionKind = "edit"
	Reject         DecisionKind = "reject"
)

// Decision is what the CSM (or a leader) decided at the approval gate.
type Decision struct {
	Kind           DecisionKind `json:"kind"`
	Actor          string       `json:"actor"`
	Note           string       `json:"note,omitempty"`
	Reason         string       `json:"reason,omitempty"`          // required for a rejection
	EditedOutreach *Email       `json:"edited_outreach,omitempty"` // required for an edit
	ConfirmedCause string       `json:"confirmed_cause,omitempty"` // the CSM's confirmed cause, if any
	// OutreachTo is the customer contact Churnwatch sends the approved
	// outreach to, when the policy lets it (Policy.SendOutreach); empty =
	// Churnwatch sends nothing. SendMyself is the CSM saying they send it
	// themselves: Churnwatch then sends nothing either.
	OutreachTo string `json:"outreach_to,omitempty"`
	SendMyself bool   `json:"send_myself,omitempty"`
	// Authority is why the worker's decision service let Actor decide
	// (owner, manager, leader or admin), judged from the worker's own user
	// record. Empty for decisions sent straight through Temporal by an
	// administrator; the gate then checks Actor against the review's policy.
	Authority string    `json:"authority,omitempty"`
	At        time.Time `json:"at"`
}

// Validate checks a decision on its own; the workflow adds the checks that
// need its state (already decided, caller allowed).
func (d Decision) Validate() error {
	switch d.Kind {
	case Approve:
	case EditAndApprove:
		if d.EditedOutreach == nil || strings.TrimSpace(d.EditedOutreach.Body) == "" {
			return fmt.Errorf("an edit needs a non-empty edited outreach body")
		}
	case Reject:
		if strings.TrimSpace(d.Reason) == "" {
			return fmt.Errorf("a rejection needs a reason")
		}
	default:
		return fmt.Errorf("unknown decision %q (want approve, edit or reject)", d.Kind)
	}
	if strings.TrimSpace(d.Actor) == "" {
		return fmt.Errorf("a decision needs an actor")
	}
	return nil
}

// Action is the work assigned once a review is approved.
type Action struct {
	Owner    string     `json:"owner"`
	Due      time.Time  `json:"due"`
	FollowUp time.Time  `json:"follow_up"`
	Plan     []PlanStep `json:"plan"`
	Outreach Email      `json:"outreach"` // the approved outreach, as approved
	// Sent is set when Churnwatch itself sent the approved outreach.
	Sent *OutreachSent `json:"sent,omitempty"`
}

// OutreachSent says where and when Churnwatch sent the approved outreach.
type OutreachSent struct {
	To        string    `json:"to"`
	MessageID string    `json:"message_id"`
	At        time.Time `json:"at"`
}

// OutcomeKind is what happened to the account after the save attempt.
type OutcomeKind string

const (
	Saved         OutcomeKind = "saved"
	Churned       OutcomeKind = "churned"
	StillAtRisk   OutcomeKind = "still_at_risk"
	FalsePositive OutcomeKind = "false_positive"
)

// Outcome is recorded at the follow-up date by the owner or a leader.
type Outcome struct {
	Kind  OutcomeKind `json:"kind"`
	Actor string      `json:"actor"`
	Note  string      `json:"note,omitempty"`
	// Authority is set by the worker's decision service, as on Decision.
	Authority string    `json:"authority,omitempty"`
	At        time.Time `json:"at"`
}

// Validate checks an outcome on its own.
func (o Outcome) Validate() error {
	switch o.Kind {
	case Saved, Churned, StillAtRisk, FalsePositive:
	default:
		return fmt.Errorf("unknown outcome %q (want saved, churned, still_at_risk or false_positive)", o.Kind)
	}
	if strings.TrimSpace(o.Actor) == "" {
		return fmt.Errorf("an outcome needs an actor")
	}
	return nil
}

// Escalation records the reminders and escalations of a late decision.
//
// Level is 0 before the SLA, 1 once the owner is reminded, 2 once the
// owner's manager is told (EscalatedTo), and 3 once the leaders of the path
// are told as well (Leaders), one grace period after the manager.
type Escalation struct {
	Path        []string    `json:"path"` // who is told, in order: owner, manager, leaders
	Level       int         `json:"level"`
	RemindedAt  []time.Time `json:"reminded_at,omitempty"`
	EscalatedTo string      `json:"escalated_to,omitempty"`
	EscalatedAt *time.Time  `json:"escalated_at,omitempty"`
	Leaders     []string    `json:"leaders,omitempty"`    // told at level 3
	LeadersAt   *time.Time  `json:"leaders_at,omitempty"` // when they were told
}

// Packet is the decision packet of one review: everything a leader needs to
// audit it. Its eight required parts are event, evidence, severity, owner,
// mitigation, escalation, decision and follow-up date.
type Packet struct {
	ReviewID    string    `json:"review_id"`
	AccountID   string    `json:"account_id"`
	AccountName string    `json:"account_name"`
	Owner       string    `json:"owner"`
	Cycle       string    `json:"cycle"` // YYYY-MM-DD
	State       State     `json:"state"`
	Event       string    `json:"event"` // what triggered the review
	Severity    risk.Tier `json:"severity"`

	Assessment   risk.Assessment `json:"assessment"` // the score and its evidence
	Draft        *Draft          `json:"draft,omitempty"`
	Escalation   Escalation      `json:"escalation"`
	Decision     *Decision       `json:"decision,omitempty"`
	Action       *Action         `json:"action,omitempty"`
	FollowUpDate string          `json:"follow_up_date,omitempty"` // YYYY-MM-DD
	Outcome      *Outcome        `json:"outcome,omitempty"`
	// Failure says why the review could not go on (its evidence too large
	// to carry, say), for the owner to see instead of drafts never written.
	Failure string `json:"failure,omitempty"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// PacketParts are the eight parts a complete decision packet has.
var PacketParts = []string{"event", "evidence", "severity", "owner", "mitigation", "escalation", "decision", "follow_up_date"}

// Missing lists the packet's absent parts as it stood at the given time, in
// PacketParts order. Two parts depend on what happened:
//
//   - escalation counts when it happened (the owner reminded, the manager
//     told) or was not due: the decision came, or at is still, within the
//     tier's SLA. A packet past its SLA that nobody chased lacks it, which is
//     what an audit is for: the reminders stopped (a stopped worker, say).
//   - a rejection needs no save plan and no follow-up date: it is complete
//     with its reason and the cause the CSM confirmed instead.
func (p Packet) Missing(at time.Time) []string {
	rejected := p.Decision != nil && p.Decision.Kind == Reject
	// In PacketParts order: summaries and trends ask this of every packet
	// of every week, so no map is made for it.
	has := [...]bool{
		strings.TrimSpace(p.Event) != "",
		len(p.Assessment.Signals) > 0,
		p.Severity != "",
		strings.TrimSpace(p.Owner) != "",
		rejected || (p.Action != nil && len(p.Action.Plan) > 0) || (p.Draft != nil && len(p.Draft.SavePlan) > 0),
		p.escalated(at) || !p.escalationDue(at),
		p.Decision != nil && (!rejected || p.rejectionExplained()),
		rejected || p.FollowUpDate != "",
	}
	var missing []string
	for i, part := range PacketParts {
		if !has[i] {
			missing = append(missing, part)
		}
	}
	return missing
}

// escalationSlack is how late past the SLA a decision may come before the
// reminder counts as due: the SLA clock starts once the drafts exist, a few
// minutes after the packet (drafting is bounded at ten minutes).
const escalationSlack = 15 * time.Minute

// escalated reports whether the path was taken by at: the owner reminded
// or the manager told.
func (p Packet) escalated(at time.Time) bool {
	e := p.Escalation
	if len(e.RemindedAt) > 0 && !e.RemindedAt[0].After(at) {
		return true
	}
	return e.EscalatedAt != nil && !e.EscalatedAt.After(at)
}

// escalationDue reports whether the decision was (or, undecided, is at at)
// later than the tier's SLA allows. A packet whose SLA or start is unknown
// cannot show an escalation was not due, so it is judged due.
func (p Packet) escalationDue(at time.Time) bool {
	sla := time.Duration(p.Assessment.SLAHours) * time.Hour
	if sla <= 0 || p.CreatedAt.IsZero() {
		return true
	}
	decidedBy := at
	if p.Decision != nil && !p.Decision.At.IsZero() && p.Decision.At.Before(at) {
		decidedBy = p.Decision.At
	}
	return decidedBy.After(p.CreatedAt.Add(sla + escalationSlack))
}

// rejectionExplained reports whether a rejection carries both its reason and
// the cause the CSM confirmed: what a leader needs to learn from it.
func (p Packet) rejectionExplained() bool {
	return strings.TrimSpace(p.Decision.Reason) != "" && strings.TrimSpace(p.Decision.ConfirmedCause) != ""
}

// EventKind names a measurement event.
type EventKind string

const (
	EventFlagged           EventKind = "flagged" // a review was opened
	EventDrafted           EventKind = "drafted"
	EventReminded          EventKind = "reminded"
	EventEscalated         EventKind = "escalated"
	EventReviewed          EventKind = "reviewed"
	EventRiskConfirmed     EventKind = "risk_confirmed"
	EventRiskRejected      EventKind = "risk_rejected" // a candidate false positive
	EventActionAssigned    EventKind = "action_assigned"
	EventOutreachSent      EventKind = "outreach_sent"
	EventOutreachFailed    EventKind = "outreach_failed" // Churnwatch could not send it (or cannot tell)
	EventCustomerResponded EventKind = "customer_responded"
	EventSaved             EventKind = "saved"
	EventChurned           EventKind = "churned"
	EventStillAtRisk       EventKind = "still_at_risk"
	EventFalsePositive     EventKind = "false_positive"

	// Access events: who signed in, and every request the team surface
	// refused (a decision not theirs, a forged form, a second decision).
	EventSignedIn      EventKind = "signed_in"
	EventSignInRefused EventKind = "sign_in_refused"
	EventSignedOut     EventKind = "signed_out"
	EventRefused       EventKind = "refused"
)

// Reasons the approval gate gives when it refuses a decision, progress or
// outcome: the type of the Temporal application error its validator
// returns, so that callers can answer 403, 409 or 422 without parsing text.
const (
	RefusedForbidden = "Forbidden"    // the actor may not act on this review
	RefusedConflict  = "Conflict"     // already decided, still drafting, or the wrong state
	RefusedInvalid   = "InvalidInput" // a field is missing or wrong
)

// Event is an append-only measurement event. Key makes writing it
// idempotent: a retried activity writes the same key, and the store keeps one.
type Event struct {
	Key       string    `json:"key"`
	ReviewID  string    `json:"review_id"`
	AccountID string    `json:"account_id"`
	Kind      EventKind `json:"kind"`
	Actor     string    `json:"actor"`
	At        time.Time `json:"at"`
	Detail    string    `json:"detail,omitempty"`
}

// EventKey is the idempotency key of an event of kind within a run of a
// review; seq tells apart repeated kinds (the second reminder, say). The
// run keeps a later workflow reusing the review ID (once the namespace's
// retention has forgotten the first) from having its events taken for the
// first one's retries and dropped.
func EventKey(reviewID, runID string, kind EventKind, seq int) string {
	return fmt.Sprintf("%s#%s#%s#%d", reviewID, runID, kind, seq)
}
