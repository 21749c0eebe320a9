package summary

import (
	"context"
	"slices"
	"time"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/store"
)

// AuditPacket is one at-risk account's decision packet laid out by its eight
// required parts, with the parts it lacks. An account flagged at risk with no
// packet at all appears with an empty ReviewID and every part missing.
type AuditPacket struct {
	ReviewID    string       `json:"review_id"`
	AccountID   string       `json:"account_id"`
	AccountName string       `json:"account_name"`
	Cycle       string       `json:"cycle,omitempty"`
	State       review.State `json:"state,omitempty"`
	Tier        risk.Tier    `json:"tier"` // the account's tier in the audited week
	Score       int          `json:"score"`
	ARR         float64      `json:"arr"`

	// The eight parts.
	Event        string             `json:"event"`
	Evidence     []risk.Signal      `json:"evidence"`
	Severity     risk.Tier          `json:"severity"`
	Owner        string             `json:"owner"`
	Mitigation   []review.PlanStep  `json:"mitigation"`
	Escalation   *review.Escalation `json:"escalation"`
	Decision     *review.Decision   `json:"decision"`
	FollowUpDate string             `json:"follow_up_date"`

	Outcome  *review.Outcome `json:"outcome,omitempty"`
	Missing  []string        `json:"missing"`
	Complete bool            `json:"complete"`
}

// Audit lists the packets of the week's elevated and critical accounts
// (week "" = the latest scored week), largest ARR first. Each account's
// packet is its review of the latest cycle up to that week.
func Audit(ctx context.Context, st store.Store, week string) ([]AuditPacket, error) {
	week, _, err := resolveWeek(ctx, st, week)
	if err != nil {
		return nil, err
	}
	rows, err := st.ScoreRows(ctx, week)
	if err != nil {
		return nil, err
	}
	atRisk, err := atRiskAssessments(ctx, st, week, rows)
	if err != nil {
		return nil, err
	}
	packets, err := st.Packets(ctx, store.PacketFilter{Through: week})
	if err != nil {
		return nil, err
	}
	latest := latestPacketByAccount(packets)
	now := time.Now() // open packets are judged as they stand now
	out := []AuditPacket{}
	for _, a := range atRisk {
		p, ok := latest[a.AccountID]
		if !ok {
			out = append(out, AuditPacket{AccountID: a.AccountID, AccountName: a.AccountName, Tier: a.Tier,
				Score: a.Score, ARR: a.ARR, Missing: slices.Clone(review.PacketParts)})
			continue
		}
		out = append(out, auditPacket(p, a, now))
	}
	return out, nil
}

func auditPacket(p review.Packet, a risk.Assessment, at time.Time) AuditPacket {
	ap := AuditPacket{
		ReviewID: p.ReviewID, AccountID: p.AccountID, AccountName: p.AccountName, Cycle: p.Cycle, State: p.State,
		Tier: a.Tier, Score: a.Score, ARR: a.ARR,
		Event: p.Event, Evidence: p.Assessment.Signals, Severity: p.Severity, Owner: p.Owner,
		Decision: p.Decision, FollowUpDate: p.FollowUpDate, Outcome: p.Outcome,
		Missing: p.Missing(at),
	}
	if ap.AccountName == "" {
		ap.AccountName = a.AccountName
	}
	// The mitigation is the approved plan once there is one, the drafted plan
	// before that: the same rule as review.Packet.Missing.
	switch {
	case p.Action != nil && len(p.Action.Plan) > 0:
		ap.Mitigation = p.Action.Plan
	case p.Draft != nil:
		ap.Mitigation = p.Draft.SavePlan
	}
	if len(p.Escalation.Path) > 0 {
		esc := p.Escalation
		ap.Escalation = &esc
	}
	if ap.Missing == nil {
		ap.Missing = []string{}
	}
	ap.Complete = len(ap.Missing) == 0
	return ap
}
