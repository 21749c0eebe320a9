package draft

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"

	"github.com/churnwatch/churnwatch/review"
)

// Policy bars accounts and owners from LLM drafting, e.g. customers whose
// contract forbids sending their data to a model. Barred reviews get the
// offline draft.
type Policy struct {
	DisabledAccounts []string
	DisabledOwners   []string
}

// Guarded is the drafter the review workflow uses: an LLM drafter held to
// the evidence, with the offline drafter behind it.
//
//   - A barred account or owner, or no LLM at all, gets the offline draft.
//   - An LLM draft that fails Validate (or is not a schema-valid answer) is
//     sent back once with the problems; if the second is no better, the
//     offline draft is returned with a note saying why.
//   - A permanent LLM error (bad key, bad request) returns the offline draft
//     with a note.
//   - A transient LLM error (429, 5xx, timeout, refused connection) is
//     returned as is, so the Temporal activity retries; when retries run
//     out the workflow calls Fallback.
type Guarded struct {
	llm     Drafter
	offline *Offline
	policy  Policy
	log     *slog.Logger
}

// NewGuarded wraps llm (nil: always offline) and offline (nil: NewOffline()).
func NewGuarded(llm Drafter, offline *Offline, policy Policy) *Guarded {
	if offline == nil {
		offline = NewOffline()
	}
	return &Guarded{llm: llm, offline: offline, policy: policy, log: slog.Default()}
}

// WithLogger sets the logger for fallbacks and rejected drafts.
func (g *Guarded) WithLogger(l *slog.Logger) *Guarded {
	g.log = l
	return g
}

// Draft implements Drafter.
func (g *Guarded) Draft(ctx context.Context, req Request) (review.Draft, error) {
	if g.llm == nil {
		return g.offline.Draft(ctx, req)
	}
	if reason := g.barred(req); reason != "" {
		return g.fallback(ctx, req, reason, 0), nil
	}

	tokens := 0
	d, err := g.llm.Draft(ctx, req)
	problems, previous, err := g.check(req, d, err, &tokens)
	if err != nil {
		if IsPermanent(err) {
			return g.fallback(ctx, req, fmt.Sprintf("The LLM call failed and will not succeed on retry (%v).", err), tokens), nil
		}
		return review.Draft{}, err
	}
	if len(problems) == 0 {
		return g.accept(req, d, tokens, nil), nil
	}

	g.log.Info("llm draft rejected; asking for a revision", "review", req.ReviewID, "problems", len(problems))
	retry := req
	retry.Feedback, retry.Previous = problems, previous
	d, err = g.llm.Draft(ctx, retry)
	problems2, _, err := g.check(req, d, err, &tokens)
	if err != nil {
		if IsPermanent(err) {
			return g.fallback(ctx, req, fmt.Sprintf("The LLM call failed and will not succeed on retry (%v).", err), tokens), nil
		}
		return review.Draft{}, err
	}
	if len(problems2) == 0 {
		return g.accept(req, d, tokens, []string{fmt.Sprintf("The first LLM draft was rejected (%s); this revision passed validation.", summarize(problems))}), nil
	}
	return g.fallback(ctx, req, fmt.Sprintf("The LLM draft failed validation twice (%s); the offline draft is used instead.", summarize(problems2)), tokens), nil
}

// check turns one LLM attempt into validation problems, the rejected
// answer as JSON (for the revision request) and a call error; tokens
// accumulates what the attempt cost.
func (g *Guarded) check(req Request, d review.Draft, err error, tokens *int) (problems []string, previous string, _ error) {
	var oe *OutputError
	if errors.As(err, &oe) {
		*tokens += oe.TokensUsed
		return oe.Problems, oe.Raw, nil
	}
	if err != nil {
		return nil, "", err
	}
	*tokens += d.TokensUsed
	problems = Validate(req, d)
	if len(problems) > 0 {
		b, _ := json.Marshal(struct {
			Brief          string            `json:"brief"`
			BriefCitations []string          `json:"brief_citations"`
			SuspectedCause string            `json:"suspected_cause"`
			SavePlan       []review.PlanStep `json:"save_plan"`
			Outreach       review.Email      `json:"outreach"`
			CallAgenda     []string          `json:"call_agenda"`
		}{d.Brief, d.BriefCitations, d.SuspectedCause, d.SavePlan, d.Outreach, d.CallAgenda})
		previous = string(b)
	}
	return problems, previous, nil
}

// accept finishes a valid LLM draft: the citations are the signal ids the
// brief actually cites, and the tokens are those of every attempt.
func (g *Guarded) accept(req Request, d review.Draft, tokens int, notes []string) review.Draft {
	d.BriefCitations = citedSignals(d.Brief, newEvidence(req.Assessment))
	d.TokensUsed = tokens
	d.Notes = append(d.Notes, notes...)
	return d
}

// Fallback returns the offline draft with a note saying why the LLM draft
// was not used; the workflow calls it when the LLM activity's retries are
// exhausted or its error is permanent.
func (g *Guarded) Fallback(ctx context.Context, req Request, cause error) review.Draft {
	reason := "The LLM draft was not available; the offline draft is used instead."
	if cause != nil {
		reason = fmt.Sprintf("The LLM draft was not available (%v); the offline draft is used instead.", cause)
	}
	return g.fallback(ctx, req, reason, 0)
}

func (g *Guarded) fallback(ctx context.Context, req Request, reason string, tokens int) review.Draft {
	reason = keyRE.ReplaceAllString(reason, "[KEY]")
	g.log.Warn("using the offline draft", "review", req.ReviewID, "reason", reason)
	d, err := g.offline.Draft(context.WithoutCancel(ctx), req)
	if err != nil {
		// The templates are tested; this is a bug, but the CSM still gets
		// the evidence rather than nothing.
		d = minimalDraft(req)
		reason += fmt.Sprintf(" The offline templates failed too (%v); this draft lists the evidence only.", err)
	}
	d.Notes = append([]string{reason}, d.Notes...)
	d.TokensUsed = tokens
	return d
}

func (g *Guarded) barred(req Request) string {
	a := req.Assessment
	if slices.Contains(g.policy.DisabledAccounts, a.AccountID) {
		return fmt.Sprintf("LLM drafting is disabled for account %s by policy; this is the offline draft.", a.AccountID)
	}
	for _, owner := range []string{req.Owner, a.Owner} {
		if owner != "" && slices.Contains(g.policy.DisabledOwners, owner) {
			return fmt.Sprintf("LLM drafting is disabled for owner %s by policy; this is the offline draft.", owner)
		}
	}
	return ""
}

// keyRE finds API keys that an endpoint echoes in its error message
// ("Incorrect API key provided: sk-..."), so notes and logs never carry one.
var keyRE = regexp.MustCompile(`\b(sk|key|pk)-[A-Za-z0-9_\-*]{3,}`)

func summarize(problems []string) string {
	const max = 3
	if len(problems) <= max {
		return strings.Join(problems, "; ")
	}
	return strings.Join(problems[:max], "; ") + fmt.Sprintf("; and %d more", len(problems)-max)
}

func minimalDraft(req Request) review.Draft {
	var b strings.Builder
	for _, s := range req.Assessment.Signals {
		fmt.Fprintf(&b, "- %s [%s]\n", s.Text, s.ID)
	}
	return review.Draft{Brief: b.String(), Drafter: OfflineDrafter}
}
