package risk

import "time"

// Tier is the band an account's score falls in, or insufficient_evidence
// when the model lacks the fields it needs. Unknown is never healthy.
type Tier string

const (
	Critical             Tier = "critical" // act within 48 hours
	Elevated             Tier = "elevated" // act this week
	Watch                Tier = "watch"
	Healthy              Tier = "healthy"
	InsufficientEvidence Tier = "insufficient_evidence"
)

// Tiers lists every tier, most severe first.
var Tiers = []Tier{Critical, Elevated, Watch, Healthy, InsufficientEvidence}

// AtRisk reports whether the tier calls for a review.
func (t Tier) AtRisk() bool { return t == Critical || t == Elevated }

// Rank orders tiers for action, most urgent first: critical (0, a 48-hour
// SLA), elevated (1), then watch and insufficient evidence together (2),
// then healthy (3).
func (t Tier) Rank() int {
	switch t {
	case Critical:
		return 0
	case Elevated:
		return 1
	case Watch, InsufficientEvidence:
		return 2
	}
	return 3
}

// Evidence is what a signal rests on: the source field(s), the weeks and the
// values read there. Weeks are YYYY-MM-DD Mondays.
type Evidence struct {
	Field  string    `json:"field"`
	Fields []string  `json:"fields,omitempty"` // when a signal reads more than one field
	Weeks  []string  `json:"weeks"`
	Values []float64 `json:"values"`
	Window string    `json:"window,omitempty"` // e.g. "last 3 weeks vs prior 8-week baseline"
}

// Signal is one explained contribution to an account's risk. Its ID doubles
// as the evidence id that drafts cite.
type Signal struct {
	ID        string   `json:"id"`
	Dimension string   `json:"dimension"` // usage, relationship, support, commercial, outcome
	Points    int      `json:"points"`
	Text      string   `json:"text"` // one plain sentence with the actual numbers
	Evidence  Evidence `json:"evidence"`
}

// Assessment is an account's risk as of one week.
type Assessment struct {
	AccountID   string   `json:"account_id"`
	AccountName string   `json:"account_name"`
	Owner       string   `json:"owner"`
	AsOf        string   `json:"as_of"` // YYYY-MM-DD, the Monday of the scored week
	Score       int      `json:"score"` // 0..100, higher = more risk
	Tier        Tier     `json:"tier"`
	Priority    int      `json:"priority"`  // 1 = act first, within the scored set
	Urgency     float64  `json:"urgency"`   // the value priority is ranked by
	SLAHours    int      `json:"sla_hours"` // the tier's response SLA
	ARR         float64  `json:"arr"`
	RenewalDate string   `json:"renewal_date,omitempty"`
	Strategic   bool     `json:"strategic,omitempty"`
	Signals     []Signal `json:"signals"`
	Missing     []string `json:"missing"` // fields the model wanted and did not get
	// Stale holds, for the missing fields the account did report before,
	// the weeks since it last did: a broken feed is not carried forward.
	Stale      map[string]int `json:"stale,omitempty"`
	Dimensions map[string]int `json:"dimensions,omitempty"` // points per dimension after caps

	// Context the drafter and the review need, carried from the latest week.
	SuccessGoal string `json:"success_goal,omitempty"`
	GoalStatus  string `json:"goal_status,omitempty"`
	Language    string `json:"language,omitempty"`
	// ContactEmail is the customer contact the approved outreach may be
	// sent to (the latest week's contact_email): for the decision form
	// only, never in an LLM request or the brief.
	ContactEmail string   `json:"contact_email,omitempty"`
	Notes        []string `json:"notes,omitempty"` // recent CRM notes, newest first: data, never instructions

	ModelVersion string    `json:"model_version"`
	ConfigHash   string    `json:"config_hash"`
	ScoredAt     time.Time `json:"-"`
}

// MissingText lists the missing fields for people, a stale one with the
// weeks since it was last reported: "logins (stale 3 weeks)".
func (a Assessment) MissingText() []string {
	out := make([]string, len(a.Missing))
	for i, f := range a.Missing {
		out[i] = f
		if k := a.Stale[f]; k > 0 {
			out[i] += " (stale " + plural(k, "week", "weeks") + ")"
		}
	}
	return out
}
