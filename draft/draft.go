// Package draft writes what a CSM reviews for an at-risk account: the risk
// brief, the two-week save plan, the outreach email and the call agenda.
//
// Three drafters share one interface. Offline writes from the evidence alone
// with the templates in package prompts; it is deterministic and always
// available. OpenAI asks any OpenAI-compatible endpoint (OpenAI, Azure
// OpenAI, Ollama, vLLM, LM Studio) for the same draft as JSON. Guarded wraps
// the two: it keeps barred accounts away from the LLM, redacts nothing
// itself (the OpenAI drafter redacts before any request leaves the process),
// validates every LLM draft against the evidence, asks once for a revision
// and otherwise falls back to the offline draft with a note saying why.
//
// Nothing drafted here reaches a customer: the review workflow holds every
// draft for a CSM's approval.
package draft

import (
	"context"
	"strings"

	"github.com/churnwatch/churnwatch/prompts"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
)

// Request is what a drafter needs for one review.
type Request struct {
	ReviewID   string
	Assessment risk.Assessment
	// CSMLanguage is the language of the brief, plan and agenda (BCP 47,
	// "en", "zh"); empty means English. The outreach email is written in the
	// account's language, Assessment.Language.
	CSMLanguage string
	// Owner is the CSM who owns the review; empty means Assessment.Owner.
	Owner string
	// CalendarLink is the booking link the email's call to action carries;
	// empty means the placeholder prompts.CalendarPlaceholder, filled in
	// when the CSM sends the approved email.
	CalendarLink string
	// Manager is who escalations go to (the CSM's manager); optional.
	Manager string

	// Feedback and Previous ask an LLM drafter to revise a rejected answer:
	// Feedback lists the validator's problems and Previous is the rejected
	// draft as JSON. Guarded sets them on its one retry; callers leave them empty.
	Feedback []string
	Previous string
}

// Drafter writes a draft for one review.
type Drafter interface {
	Draft(ctx context.Context, req Request) (review.Draft, error)
}

// MaxOutreachWords is the outreach email's length limit. CJK characters
// count one word each.
const MaxOutreachWords = 150

// AccountEvidenceID is the evidence id that cites the assessment's own facts
// (score, tier, priority, SLA, ARR, renewal, success goal) rather than a signal.
const AccountEvidenceID = "account"

func (r Request) owner() string {
	if o := strings.TrimSpace(r.Owner); o != "" {
		return o
	}
	if o := strings.TrimSpace(r.Assessment.Owner); o != "" {
		return o
	}
	return "the account owner"
}

func (r Request) calendarLink() string {
	if l := strings.TrimSpace(r.CalendarLink); l != "" {
		return l
	}
	return prompts.CalendarPlaceholder
}
