package metrics

import (
	"cmp"
	"strings"
	"time"

	"github.com/churnwatch/churnwatch/draft"
	"github.com/churnwatch/churnwatch/review"
)

// Scan steps, the step label of churnwatch_scan_step_duration_seconds.
const (
	StepIngest       = "ingest"
	StepScoreChunk   = "score_chunk"
	StepStartReviews = "start_reviews"
)

// Drafters, the drafter label of churnwatch_draft_duration_seconds.
const (
	DrafterLLM     = "llm"
	DrafterOffline = "offline"
)

// ScanStep observes the duration of a scan step that began at start; an
// activity defers it on entry: defer a.Metrics.ScanStep(metrics.StepIngest, time.Now()).
func (m *Metrics) ScanStep(step string, start time.Time) {
	if m == nil {
		return
	}
	m.scanStep.WithLabelValues(step).Observe(time.Since(start).Seconds())
}

// Ingested counts the rows an ingest kept and rejected.
func (m *Metrics) Ingested(kept, rejected int) {
	if m == nil {
		return
	}
	m.ingestRows.WithLabelValues("kept").Add(float64(kept))
	m.ingestRows.WithLabelValues("rejected").Add(float64(rejected))
}

// DraftDone observes one drafting of a review by drafter (DrafterLLM or
// DrafterOffline) that took d and failed with err (nil: ok).
func (m *Metrics) DraftDone(drafter string, d time.Duration, err error) {
	if m == nil {
		return
	}
	m.draftDuration.WithLabelValues(drafter, result(err, "ok", "error")).Observe(d.Seconds())
}

// LLMDraft records what the guarded LLM drafter returned after d: the
// draft's duration, the call's result, its tokens and, on error, why.
func (m *Metrics) LLMDraft(dr review.Draft, err error, d time.Duration) {
	if m == nil {
		return
	}
	m.DraftDone(DrafterLLM, d, err)
	switch {
	case err != nil:
		m.llmCalls.WithLabelValues("error").Inc()
		reason := "transient"
		if _, ok := draft.RetryAfter(err); ok {
			reason = "rate_limited"
		} else if draft.IsPermanent(err) {
			reason = "permanent"
		}
		m.llmFailures.WithLabelValues(reason).Inc()
	case strings.HasPrefix(dr.Drafter, "llm"):
		m.llmCalls.WithLabelValues("drafted").Inc()
	default:
		m.llmCalls.WithLabelValues("fallback").Inc()
	}
	m.llmTokens.Add(float64(max(dr.TokensUsed, 0)))
}

// Notice counts a notice of kind that was sent, or failed with err.
func (m *Metrics) Notice(kind review.EventKind, err error) {
	if m == nil {
		return
	}
	m.notices.WithLabelValues(string(kind), result(err, "sent", "failed")).Inc()
}

// Decided observes the time from the review's start to its decision, from
// the packet the decision returned.
func (m *Metrics) Decided(p review.Packet) {
	if m == nil || p.Decision == nil || p.CreatedAt.IsZero() || p.Decision.At.Before(p.CreatedAt) {
		return
	}
	tier := cmp.Or(p.Severity, p.Assessment.Tier)
	m.timeToDecision.WithLabelValues(string(p.Decision.Kind), string(tier)).Observe(p.Decision.At.Sub(p.CreatedAt).Seconds())
}

func result(err error, ok, failed string) string {
	if err != nil {
		return failed
	}
	return ok
}
