package review

import (
	"encoding/json"
	"time"

	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/snapshot"
)

// The messages below pass between the workflows and their activities. They
// are plain data so that workflow code depends on no I/O package.

// Names of the workflows, updates, signals and queries clients use.
const (
	ReviewWorkflow  = "AccountReview"
	ScanWorkflow    = "PortfolioScan"
	SummaryWorkflow = "LeadershipSummary"

	UpdateDecide   = "decide"   // a Decision; returns the Packet
	UpdateOutcome  = "outcome"  // an Outcome; returns the Packet
	UpdateProgress = "progress" // a Progress note (outreach sent, customer responded)
	SignalDecide   = "decide"   // the same Decision, fire and forget
	SignalOutcome  = "outcome"  // the same Outcome, fire and forget
	QueryState     = "state"    // returns State
	QueryPacket    = "packet"   // returns Packet
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

// Policy is the review configuration a review runs with. It travels in the
// workflow input so a running review is not changed by a later config edit.
type Policy struct {
	SLACritical     time.Duration `json:"sla_critical"`
	SLAElevated     time.Duration `json:"sla_elevated"`
	ReminderGrace   time.Duration `json:"reminder_grace"`
	FollowUpAfter   time.Duration `json:"follow_up_after"`
	OutcomeReminder time.Duration `json:"outcome_reminder"`
	// Managers maps an owner to the manager who receives escalations.
	Managers       map[string]string `json:"managers,omitempty"`
	DefaultManager string            `json:"default_manager"`
	Leaders        []string          `json:"leaders"`
	// LLMTaskQueue is where drafting runs; empty means draft offline only.
	LLMTaskQueue string `json:"llm_task_queue"`
	// SendOutreach lets the review send the approved outreach to the
	// recipient its decision names (notify.send_outreach).
	SendOutreach bool `json:"send_outreach,omitempty"`
}

// SLA is how long a decision on a review of tier may wait before reminders.
func (p Policy) SLA(tier risk.Tier) time.Duration {
	if tier == risk.Critical {
		return p.SLACritical
	}
	return p.SLAElevated
}

// Manager is who receives the escalations of owner's reviews.
func (p Policy) Manager(owner string) string {
	if m := p.Managers[owner]; m != "" {
		return m
	}
	return p.DefaultManager
}

// MayDecide reports whether actor may decide a review owned by owner.
func (p Policy) MayDecide(actor, owner string) bool {
	if actor == owner {
		return true
	}
	for _, l := range p.Leaders {
		if actor == l {
			return true
		}
	}
	return false
}

// ReviewInput starts an AccountReview.
type ReviewInput struct {
	ReviewID    string    `json:"review_id"`
	AccountID   string    `json:"account_id"`
	AccountName string    `json:"account_name"`
	Owner       string    `json:"owner"`
	Cycle       string    `json:"cycle"` // the Monday of the scored week
	Event       string    `json:"event"` // why the review started
	Tier        risk.Tier `json:"tier"`
	Score       int       `json:"score"`
	Policy      Policy    `json:"policy"`
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
	Packet Packet            `json:"packet"`
	Seq    map[EventKind]int `json:"seq"`
	Wait   time.Duration     `json:"wait"`
}

// Item is one review as lists show it: `starter reviews list --json` and
// GET /api/reviews print these fields (a contract).
type Item struct {
	ReviewID  string `json:"review_id"`
	AccountID string `json:"account_id"`
	Tier      string `json:"tier"`
	Score     int    `json:"score"`
	State     string `json:"state"`
	Owner     string `json:"owner"`
}

// Progress records what happened after approval, before the outcome.
type Progress struct {
	Kind  EventKind `json:"kind"` // outreach_sent or customer_responded
	Actor string    `json:"actor"`
	Note  string    `json:"note,omitempty"`
	// Authority is set by the worker's decision service, as on Decision.
	Authority string `json:"authority,omitempty"`
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

// Notice is a message to a person: a reminder, an escalation or a request.
// Notices go to people inside the team, never to the customer.
type Notice struct {
	ReviewID string    `json:"review_id"`
	To       string    `json:"to"`
	Kind     EventKind `json:"kind"`
	Message  string    `json:"message"`
}

// ScanInput starts a PortfolioScan. Files are read by the worker; an empty
// Files with Inbox set scans every snapshot file in that folder.
type ScanInput struct {
	Files []string `json:"files,omitempty"`
	Inbox string   `json:"inbox,omitempty"`
	AsOf  string   `json:"as_of,omitempty"` // YYYY-MM-DD; empty = the latest week in the input
	// Policy and JumpPoints come from the starter's or the schedule's config.
	Policy     Policy `json:"policy"`
	JumpPoints int    `json:"jump_points"`
	ChunkSize  int    `json:"chunk_size"`
	// Source adds the worker's warehouse source (source.dsn, source.query)
	// to the input, read after the files. Only the flag travels: the DSN
	// stays in the worker's config, out of workflow history.
	Source bool `json:"source,omitempty"`
}

// IngestResult is what ingesting the scan's files produced.
type IngestResult struct {
	BatchID string   `json:"batch_id"`
	Files   []string `json:"files"`
	AsOf    string   `json:"as_of"`
	Rows    int      `json:"rows"`
	// AccountCount accounts have a row for a week up to AsOf; Chunks names
	// them by id bounds, so the scan's history stays small however large
	// the book. Accounts is what scans recorded before chunks had bounds:
	// replays of their histories read it; new ingests leave it empty.
	AccountCount int                  `json:"account_count"`
	Chunks       []AccountRange       `json:"chunks,omitempty"`
	Accounts     []string             `json:"accounts,omitempty"`
	Rejected     []snapshot.Rejection `json:"rejected"`
	Warnings     []string             `json:"warnings"`
	// Peers are the whole book's usage levels as of AsOf, for every chunk.
	Peers risk.PeerLevels `json:"peers"`
}

// AccountRange is a chunk of a batch's accounts, in id order: after
// (exclusive; "" = from the first) up to last (inclusive).
type AccountRange struct {
	After string `json:"after,omitempty"`
	Last  string `json:"last"`
}

// ScoreRequest scores a chunk of a batch's accounts: those in Range or,
// from scans recorded before ranges, those listed in Accounts.
type ScoreRequest struct {
	BatchID    string          `json:"batch_id"`
	AsOf       string          `json:"as_of"`
	Range      *AccountRange   `json:"range,omitempty"`
	Accounts   []string        `json:"accounts,omitempty"`
	JumpPoints int             `json:"jump_points"`
	Peers      risk.PeerLevels `json:"peers"`
}

// Candidate is an account whose risk calls for a review.
type Candidate struct {
	AccountID     string    `json:"account_id"`
	AccountName   string    `json:"account_name"`
	Owner         string    `json:"owner"`
	Tier          risk.Tier `json:"tier"`
	Score         int       `json:"score"`
	PreviousTier  risk.Tier `json:"previous_tier,omitempty"`
	PreviousScore int       `json:"previous_score,omitempty"`
	Reason        string    `json:"reason"`
}

// ScoreResult is one scored chunk.
type ScoreResult struct {
	Tiers      map[risk.Tier]int `json:"tiers"`
	Candidates []Candidate       `json:"candidates"`
	// OpenReviews are at-risk accounts that already have a review open.
	OpenReviews []string `json:"open_reviews"`
}

// ScanResult is what a PortfolioScan did.
type ScanResult struct {
	BatchID  string            `json:"batch_id"`
	AsOf     string            `json:"as_of"`
	Rows     int               `json:"rows"`
	Accounts int               `json:"accounts"`
	Tiers    map[risk.Tier]int `json:"tiers"`
	// Started and AlreadyOpen list the reviews, most severe first, up to
	// MaxListed each; the counts are whole.
	Started          []Candidate          `json:"started"`
	StartedCount     int                  `json:"started_count"`
	AlreadyOpen      []string             `json:"already_open"`
	AlreadyOpenCount int                  `json:"already_open_count"`
	Rejected         []snapshot.Rejection `json:"rejected"`
	Warnings         []string             `json:"warnings"`
}

// MaxListed bounds the reviews a ScanResult lists, so a scan of a large
// book returns a result Temporal can carry.
const MaxListed = 500

// StartReviewsRequest starts the reviews of some of a scan's candidates.
type StartReviewsRequest struct {
	Cycle      string      `json:"cycle"`
	Policy     Policy      `json:"policy"`
	Candidates []Candidate `json:"candidates"`
}

// StartReviewsResult says which reviews started and which accounts already
// had one for the cycle.
type StartReviewsResult struct {
	Started     []Candidate `json:"started"`
	AlreadyOpen []string    `json:"already_open"`
}

// Report is the leadership summary of one week in every format, and the
// packet audit, as the summary activity rendered them.
//
// The summary activity stores the rendered parts (store.Report) and
// returns ID, Week and Sizes alone: at 10,000 accounts the parts are over
// Temporal's 2 MB payload limit. The parts below are filled only in
// results recorded before reports moved to the store.
type Report struct {
	ID       string          `json:"id,omitempty"`
	Sizes    map[string]int  `json:"sizes,omitempty"` // bytes per stored part
	Week     string          `json:"week"`
	JSON     json.RawMessage `json:"json,omitempty"`
	Markdown string          `json:"markdown,omitempty"`
	CSV      string          `json:"csv,omitempty"`
	Audit    json.RawMessage `json:"audit,omitempty"`
	Register string          `json:"register,omitempty"` // the risk register as CSV
}

// SummaryInput asks for the leadership summary of a week ("" = latest).
type SummaryInput struct {
	Week string `json:"week,omitempty"`
	// Save keeps the stored report (the weekly schedule's copy); the others
	// are pruned after a day.
	Save bool `json:"save,omitempty"`
}
