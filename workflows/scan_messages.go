package workflows

import (
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/snapshot"
)

// The messages of PortfolioScan: its input and result, and what its
// activities take and give. The JSON names are in recorded histories and
// must not change.

// ScanWorkflow is the type name of PortfolioScan.
const ScanWorkflow = "PortfolioScan"

// ScanInput starts a PortfolioScan. Files are read by the worker; an empty
// Files with Inbox set scans every snapshot file in that folder.
type ScanInput struct {
	Files []string `json:"files,omitempty"`
	Inbox string   `json:"inbox,omitempty"`
	AsOf  string   `json:"as_of,omitempty"` // YYYY-MM-DD; empty = the latest week in the input
	// Policy and JumpPoints come from the starter's or the schedule's config.
	Policy     review.Policy `json:"policy"`
	JumpPoints int           `json:"jump_points"`
	ChunkSize  int           `json:"chunk_size"`
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
	Cycle      string        `json:"cycle"`
	Policy     review.Policy `json:"policy"`
	Candidates []Candidate   `json:"candidates"`
}

// StartReviewsResult says which reviews started and which accounts already
// had one for the cycle.
type StartReviewsResult struct {
	Started     []Candidate `json:"started"`
	AlreadyOpen []string    `json:"already_open"`
}
