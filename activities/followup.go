package activities

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/snapshot"
)

// FollowUpWeeks is how many weeks after its review was rejected, or closed
// with the outcome still_at_risk, an account that is still elevated or
// critical gets a new review, unless ScanActivities.FollowUpWeeks
// (review.follow_up_weeks) says otherwise. Without it an account that stays
// at risk never crosses a tier again and falls out of the loop.
const FollowUpWeeks = 4

func (a *ScanActivities) followUpWeeks() int {
	if a.FollowUpWeeks > 0 {
		return a.FollowUpWeeks
	}
	return FollowUpWeeks
}

// followUps returns why each of the scored accounts that is at risk now,
// with no other reason for a review (see reviewReason), calls for a
// follow-up review, keyed by account; the chunk's review history is read
// in one lookup.
func (a *ScanActivities) followUps(ctx context.Context, scored []risk.Assessment, previous map[string]risk.Assessment, jump int, asOf time.Time) (map[string]string, error) {
	var ids []string
	for _, s := range scored {
		prev, hasPrev := previous[s.AccountID]
		if s.Tier.AtRisk() && reviewReason(s, prev, hasPrev, jump) == "" {
			ids = append(ids, s.AccountID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	packets, err := a.Store.AccountPackets(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("look up the earlier reviews of the chunk's at-risk accounts: %w", err)
	}
	out := map[string]string{}
	for _, s := range scored {
		if reason := followUpReason(s, packets[s.AccountID], asOf, a.followUpWeeks()); reason != "" {
			out[s.AccountID] = reason
		}
	}
	return out, nil
}

// followUpReason says why an account at risk now calls for a follow-up
// review, citing the earlier decision, or "" when it does not: its latest
// review (packets are in cycle order) was rejected, or closed with the
// outcome still_at_risk, at least weeks scan weeks before asOf. A saved, churned or false_positive outcome closes
// the matter; a rejected follow-up waits weeks more, from its own decision.
func followUpReason(s risk.Assessment, packets []review.Packet, asOf time.Time, weeks int) string {
	if !s.Tier.AtRisk() || len(packets) == 0 {
		return ""
	}
	// A latest review that has not ended (open, or its packet not yet
	// closed) matches neither case below: it is the follow-up.
	last := packets[len(packets)-1]
	var at time.Time
	var earlier string
	switch {
	case last.State == review.Rejected && last.Decision != nil:
		d := last.Decision
		at = d.At
		earlier = fmt.Sprintf("%s was rejected by %s: '%s'", last.ReviewID, d.Actor, oneLine(d.Reason))
	case last.State == review.Closed && last.Outcome != nil && last.Outcome.Kind == review.StillAtRisk:
		o := last.Outcome
		at = o.At
		earlier = fmt.Sprintf("the outcome %s recorded by %s on %s", o.Kind, o.Actor, last.ReviewID)
		if note := oneLine(o.Note); note != "" {
			earlier += ": '" + note + "'"
		}
	default:
		return ""
	}
	// Counted in scan weeks, from the Monday of the decision's week to the
	// scored week, so that a weekly scan follows up on the same week
	// whatever day the decision was taken.
	since := int(asOf.Sub(snapshot.Monday(at.UTC())).Hours()) / (7 * 24)
	if since < weeks {
		return ""
	}
	return fmt.Sprintf("still %s %d weeks after %s (score %d, as of %s)", s.Tier, since, earlier, s.Score, s.AsOf)
}

// oneLine collapses a free-text note to one line for a reason.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
