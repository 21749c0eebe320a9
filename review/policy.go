package review

import (
	"time"

	"github.com/churnwatch/churnwatch/risk"
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
