package prompts

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// PortfolioFigures are the numbers a leadership summary is written from.
// A nil rate is unknown (no outcome recorded yet), and is said to be
// unknown, never shown as zero.
type PortfolioFigures struct {
	Week     string         `json:"week"` // YYYY-MM-DD
	Language string         `json:"language,omitempty"`
	Accounts int            `json:"accounts"`
	Tiers    map[string]int `json:"tiers"` // critical, elevated, watch, healthy, insufficient_evidence

	// Change in critical and elevated counts since the previous week; nil
	// when there is no previous week to compare with.
	CriticalChange *int `json:"critical_change,omitempty"`
	ElevatedChange *int `json:"elevated_change,omitempty"`

	TotalARR  float64 `json:"total_arr"`
	ARRAtRisk float64 `json:"arr_at_risk"` // ARR of critical and elevated accounts

	OpenReviews              int      `json:"open_reviews"`
	SaveRate                 *float64 `json:"save_rate"`           // fraction 0..1
	FalsePositiveRate        *float64 `json:"false_positive_rate"` // fraction 0..1
	MedianDaysFlagToOutreach *float64 `json:"median_days_flag_to_outreach"`
	PacketCompleteness       *float64 `json:"packet_completeness"` // fraction 0..1

	TopRisks []PortfolioAccount `json:"top_risks"` // highest ARR at risk first
}

// PortfolioAccount is one line of the summary's risk register.
type PortfolioAccount struct {
	Name  string  `json:"name"`
	Owner string  `json:"owner"`
	Tier  string  `json:"tier"`
	Score int     `json:"score"`
	ARR   float64 `json:"arr"`
	State string  `json:"state,omitempty"` // the review's state
}

// LeadershipSummary writes the weekly narrative for CS leadership from the
// portfolio figures alone, in f.Language (English when no template exists).
func LeadershipSummary(f PortfolioFigures) (string, error) {
	lang, _ := Normalize(f.Language)
	return Render(lang, "leadership_summary", f)
}

// LeadershipSummaryMessages returns the system and user messages for
// asking an LLM to write the same narrative; the figures travel as JSON data.
func LeadershipSummaryMessages(f PortfolioFigures) (system, user string, err error) {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return "", "", fmt.Errorf("prompts: leadership summary figures: %w", err)
	}
	lang, _ := Normalize(f.Language)
	system, err = execLLM("llm_summary_system.tmpl", struct{ Language Lang }{lang})
	if err != nil {
		return "", "", err
	}
	user, err = execLLM("llm_summary_user.tmpl", struct{ Figures string }{string(b)})
	return system, user, err
}

// pct writes a fraction as a whole percentage: 0.384 -> "38%".
func pct(v float64) string {
	return strconv.FormatFloat(math.Round(v*100), 'f', -1, 64) + "%"
}

// deref reads an optional figure the template has already checked is set.
func deref[T any](p *T) T { return *p }
