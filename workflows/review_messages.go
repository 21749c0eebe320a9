package workflows

import (
	"time"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/snapshot"
)

// The messages of AccountReview: its input, the names clients send it
// updates, signals and queries by, and what its activities take and give.
// They are plain data so that workflow code depends on no I/O package; the
// JSON names are in recorded histories and must not change.

// ReviewWorkflow is the type name of AccountReview.
const ReviewWorkflow = "AccountReview"

// Names of the review's updates, signals and queries.
const (
	UpdateDecide   = "decide"   // a review.Decision; returns the review.Packet
	UpdateOutcome  = "outcome"  // a review.Outcome; returns the review.Packet
	UpdateProgress = "progress" // a review.Progress note (outreach sent, customer responded)
	SignalDecide   = "decide"   // the same Decision, fire and forget
	SignalOutcome  = "outcome"  // the same Outcome, fire and forget
	QueryState     = "state"    // returns review.State
	QueryPacket    = "packet"   // returns review.Packet
)

// Search attributes registered on the namespace and kept current by the
// review workflow, so reviews can be listed without the store.
const (
	AttrAccountID   = "AccountID"
	AttrOwner       = "Owner"
	AttrRiskTier    = "RiskTier"
	AttrRiskScore   = "RiskScore"
	AttrReviewState = "ReviewState"
)

// ReviewInput starts an AccountReview.
type ReviewInput struct {
	ReviewID    string        `json:"review_id"`
	AccountID   string        `json:"account_id"`
	AccountName string        `json:"account_name"`
	Owner       string        `json:"owner"`
	Cycle       string        `json:"cycle"` // the Monday of the scored week
	Event       string        `json:"event"` // why the review started
	Tier        risk.Tier     `json:"tier"`
	Score       int           `json:"score"`
	Policy      review.Policy `json:"policy"`
	// Resume is set when a review continues as new to keep its history
	// short: the run starts from it instead of gathering and drafting.
	Resume *Resume `json:"resume,omitempty"`
}

// Resume is what a review that continued as new carries to its next run,
// so nothing is lost: the packet (its drafts, reminders and escalation
// level), the per-kind event counters, and the time left of the wait it was
// in. Packet.State says which wait: awaiting_approval is the decision gate,
// action_assigned the wait for the follow-up date, awaiting_outcome the
// chase for the outcome.
type Resume struct {
	Packet review.Packet            `json:"packet"`
	Seq    map[review.EventKind]int `json:"seq"`
	Wait   time.Duration            `json:"wait"`
}

// EvidenceRequest asks for an account's history up to a week.
type EvidenceRequest struct {
	AccountID string `json:"account_id"`
	AsOf      string `json:"as_of"`
}

// Evidence is an account's weekly history, oldest first, and the scan's
// assessment of it under the current model, if there is one.
type Evidence struct {
	AccountID string              `json:"account_id"`
	AsOf      string              `json:"as_of"`
	History   []snapshot.Snapshot `json:"history"`
	Scored    *risk.Assessment    `json:"scored,omitempty"`
}

// DraftRequest asks for the drafts of a review.
type DraftRequest struct {
	ReviewID   string          `json:"review_id"`
	Owner      string          `json:"owner"`
	Manager    string          `json:"manager,omitempty"`
	Assessment risk.Assessment `json:"assessment"`
	// FallbackReason, when set, asks for the offline draft and says why.
	FallbackReason string `json:"fallback_reason,omitempty"`
}
