package draft

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/churnwatch/churnwatch/prompts"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
)

// OfflineDrafter is the Drafter value offline drafts carry.
const OfflineDrafter = "offline"

// Offline drafts from the evidence alone with the templates in package
// prompts. It needs no network, is deterministic (the same request gives the
// same draft) and is safe for concurrent use.
type Offline struct{}

// NewOffline returns the offline drafter.
func NewOffline() *Offline { return &Offline{} }

// Dimensions in the order their plan steps are preferred when there are
// more than the plan has room for; relationship and support come first
// because stakeholder silence and unresolved support issues are always acted on.
var stepForDimension = map[string]string{
	"support":      "support",
	"relationship": "sponsor",
	"usage":        "enablement",
	"commercial":   "commercial",
	"outcome":      "outcome",
}

// maxOptionalSteps keeps the plan within seven steps: four fixed steps
// (outreach, value call, checkpoint, follow-up review) and at most three
// aimed at the evidence.
const maxOptionalSteps = 3

var stepDay = map[string]int{
	"outreach":   0,
	"support":    1,
	"sponsor":    2,
	"call":       3,
	"enablement": 5,
	"commercial": 7,
	"outcome":    7,
	"checkpoint": 10,
	"review":     14,
}

// Draft writes the brief in req.CSMLanguage and the outreach in the
// account's language, both falling back to English with a note.
func (o *Offline) Draft(ctx context.Context, req Request) (review.Draft, error) {
	if err := ctx.Err(); err != nil {
		return review.Draft{}, err
	}
	a := req.Assessment
	ev := newEvidence(a)
	data := offlineData(req, ev)

	var notes []string
	briefLang, ok := prompts.Normalize(req.CSMLanguage)
	if !ok && strings.TrimSpace(req.CSMLanguage) != "" {
		notes = append(notes, fmt.Sprintf("No templates for CSM language %q; the brief is in English.", req.CSMLanguage))
	}
	mailLang, ok := prompts.Normalize(a.Language)
	if !ok {
		if strings.TrimSpace(a.Language) == "" {
			notes = append(notes, "The account's language is unknown; the outreach is in English.")
		} else {
			notes = append(notes, fmt.Sprintf("No templates for the account's language %q; the outreach is in English.", a.Language))
		}
	}
	if a.SuccessGoal == "" {
		notes = append(notes, "No success goal is on record; the outreach cannot refer to it. Ask for it on the call.")
	}

	d := review.Draft{Drafter: OfflineDrafter, PromptVersion: prompts.Version}
	var err error
	if d.Brief, err = prompts.Render(briefLang, "brief", data); err != nil {
		return review.Draft{}, err
	}
	d.BriefCitations = citedSignals(d.Brief, ev)
	if d.SuspectedCause, err = prompts.Render(briefLang, "suspected_cause", data); err != nil {
		return review.Draft{}, err
	}
	if d.SavePlan, err = offlinePlan(briefLang, data, ev); err != nil {
		return review.Draft{}, err
	}
	if d.Outreach, err = offlineOutreach(mailLang, data); err != nil {
		return review.Draft{}, err
	}
	if d.CallAgenda, err = prompts.RenderLines(briefLang, "agenda", data); err != nil {
		return review.Draft{}, err
	}
	d.Notes = notes
	return d, nil
}

func offlineData(req Request, ev *evidence) prompts.OfflineData {
	a := req.Assessment
	d := prompts.OfflineData{
		AccountID:     a.AccountID,
		AccountName:   a.AccountName,
		AsOf:          a.AsOf,
		Owner:         req.owner(),
		Manager:       strings.TrimSpace(req.Manager),
		Tier:          string(a.Tier),
		Score:         a.Score,
		Priority:      a.Priority,
		SLAHours:      a.SLAHours,
		ARR:           a.ARR,
		RenewalDate:   a.RenewalDate,
		DaysToRenewal: ev.daysToRenewal,
		Strategic:     a.Strategic,
		SuccessGoal:   strings.TrimRight(strings.TrimSpace(a.SuccessGoal), ".。"),
		GoalStatus:    a.GoalStatus,
		Missing:       a.Missing,
		CalendarLink:  req.calendarLink(),
	}
	if !ev.hasRenewal {
		d.RenewalDate = ""
	}
	for _, s := range ev.ordered {
		v := signalView(s)
		d.Signals = append(d.Signals, v)
		if s.Dimension == "relationship" || s.Dimension == "support" {
			d.Flagged = append(d.Flagged, v)
		}
	}
	if len(d.Signals) > 0 {
		d.Top = d.Signals[0]
		d.Cause = d.Top.Dimension
		for _, s := range d.Signals {
			if s.Dimension == d.Cause && len(d.CauseSignals) < 3 {
				d.CauseSignals = append(d.CauseSignals, s)
			}
		}
	}
	return d
}

func signalView(s risk.Signal) prompts.SignalView {
	field := s.Evidence.Field
	if len(s.Evidence.Fields) > 0 {
		field = strings.Join(s.Evidence.Fields, ", ")
	}
	return prompts.SignalView{
		ID:        s.ID,
		Dimension: s.Dimension,
		Points:    s.Points,
		Text:      s.Text,
		Field:     field,
		Weeks:     s.Evidence.Weeks,
		Values:    s.Evidence.Values,
		Window:    s.Evidence.Window,
	}
}

// offlinePlan builds a plan of four to seven steps over fourteen days: the
// fixed steps, plus one step for each dimension with evidence, strongest first.
func offlinePlan(lang prompts.Lang, data prompts.OfflineData, ev *evidence) ([]review.PlanStep, error) {
	byDim := map[string][]prompts.SignalView{}
	dimPoints := map[string]int{}
	for _, s := range data.Signals {
		byDim[s.Dimension] = append(byDim[s.Dimension], s)
		dimPoints[s.Dimension] += s.Points
	}
	var dims []string
	for dim := range byDim {
		if _, ok := stepForDimension[dim]; ok {
			dims = append(dims, dim)
		}
	}
	// Stakeholder silence and support issues always get a step; after them
	// the dimensions that carry the most points.
	rank := func(dim string) int {
		if dim == "relationship" || dim == "support" {
			return 0
		}
		return 1
	}
	sort.Slice(dims, func(i, j int) bool {
		if rank(dims[i]) != rank(dims[j]) {
			return rank(dims[i]) < rank(dims[j])
		}
		if dimPoints[dims[i]] != dimPoints[dims[j]] {
			return dimPoints[dims[i]] > dimPoints[dims[j]]
		}
		return dims[i] < dims[j]
	})
	if len(dims) > maxOptionalSteps {
		dims = dims[:maxOptionalSteps]
	}

	role := func(name string) (string, error) { return prompts.Render(lang, name, data) }
	type stepSpec struct {
		kind, owner string
		signals     []prompts.SignalView
	}
	specs := []stepSpec{
		{kind: "outreach", owner: data.Owner},
		{kind: "call", owner: data.Owner},
		{kind: "checkpoint", owner: data.Owner, signals: data.Signals},
		{kind: "review", owner: data.Owner},
	}
	for _, dim := range dims {
		kind := stepForDimension[dim]
		owner := data.Owner
		var err error
		switch kind {
		case "support":
			owner, err = role("role_support")
		case "sponsor":
			owner = data.Manager
			if owner == "" {
				owner, err = role("role_manager")
			}
		case "commercial":
			owner, err = role("role_ae")
		}
		if err != nil {
			return nil, err
		}
		specs = append(specs, stepSpec{kind: kind, owner: owner, signals: byDim[dim]})
	}
	sort.SliceStable(specs, func(i, j int) bool { return stepDay[specs[i].kind] < stepDay[specs[j].kind] })

	plan := make([]review.PlanStep, 0, len(specs))
	for _, sp := range specs {
		data.Step = prompts.StepView{Kind: sp.kind, Day: stepDay[sp.kind], Owner: sp.owner, Signals: sp.signals}
		action, err := prompts.Render(lang, "step_"+sp.kind, data)
		if err != nil {
			return nil, err
		}
		points, err := prompts.RenderLines(lang, "points_"+sp.kind, data)
		if err != nil {
			return nil, err
		}
		step := review.PlanStep{Day: stepDay[sp.kind], Action: action, Owner: sp.owner, TalkingPoints: points}
		for _, s := range sp.signals {
			step.EvidenceIDs = append(step.EvidenceIDs, s.ID)
		}
		if sp.kind == "outreach" || sp.kind == "call" {
			step.EvidenceIDs = append(step.EvidenceIDs, AccountEvidenceID)
		}
		plan = append(plan, step)
	}
	return plan, nil
}

// offlineOutreach renders the email, falling back to the short body when a
// long success goal pushes the full one past the word limit.
func offlineOutreach(lang prompts.Lang, data prompts.OfflineData) (review.Email, error) {
	subject, err := prompts.Render(lang, "outreach_subject", data)
	if err != nil {
		return review.Email{}, err
	}
	body, err := prompts.Render(lang, "outreach_body", data)
	if err != nil {
		return review.Email{}, err
	}
	if countWords(body) > MaxOutreachWords {
		if body, err = prompts.Render(lang, "outreach_body_short", data); err != nil {
			return review.Email{}, err
		}
	}
	for countWords(body) > MaxOutreachWords && data.SuccessGoal != "" {
		// A goal long enough to break the limit on its own is cut, keeping
		// its opening words so the email still names it.
		data.SuccessGoal = shortenWords(data.SuccessGoal, countWords(data.SuccessGoal)/2)
		if body, err = prompts.Render(lang, "outreach_body_short", data); err != nil {
			return review.Email{}, err
		}
	}
	return review.Email{Language: string(lang), Subject: subject, Body: body}, nil
}
