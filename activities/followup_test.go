package activities

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/workflows"
)

// TestScoreChunkFollowsUpAccountsThatStayAtRisk scans the example book a
// week before its latest week and then at it, so that the accounts at risk
// both weeks cross nothing, and gives them earlier reviews: only a
// rejection or a still_at_risk outcome FollowUpWeeks or more ago, with no
// review open, brings them back, citing the earlier decision.
func TestScoreChunkFollowsUpAccountsThatStayAtRisk(t *testing.T) {
	a, env := newActivities(t)
	// The test needs seven accounts of the example book at risk both
	// weeks; under model 1.5's corroboration two of them reach elevated a
	// week later, so it scores without it.
	a.ScanActivities.Model.Corroboration.UsageWeeks = 0
	ctx := context.Background()
	res := ingest(t, env, book(t))
	if res.AsOf != "2026-11-16" {
		t.Fatalf("the book's latest week is %s; the earlier reviews below are dated from 2026-11-16", res.AsOf)
	}
	asOf, err := time.Parse(time.DateOnly, res.AsOf)
	if err != nil {
		t.Fatal(err)
	}
	lastWeek := execute[workflows.IngestResult](t, env, "Ingest", workflows.ScanInput{Files: []string{book(t)}, AsOf: asOf.AddDate(0, 0, -7).Format(time.DateOnly)})
	scoreChunks(t, env, lastWeek, 15)
	baseline := scoreChunks(t, env, res, 15)

	// The accounts at risk both weeks with no reason for a review, and one
	// healthy account.
	scores, err := a.Store.ScoresAsOf(ctx, res.AsOf)
	if err != nil {
		t.Fatal(err)
	}
	var steady []risk.Assessment
	var healthy risk.Assessment
	for _, s := range scores {
		crossed := slices.ContainsFunc(baseline.Candidates, func(c workflows.Candidate) bool { return c.AccountID == s.AccountID })
		switch {
		case s.Tier.AtRisk() && !crossed:
			steady = append(steady, s)
		case s.Tier == risk.Healthy:
			healthy = s
		}
	}
	if len(steady) < 7 || healthy.AccountID == "" {
		t.Fatalf("the book has %d accounts at risk both weeks (want 7) and healthy %q", len(steady), healthy.AccountID)
	}

	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d.Add(10 * time.Hour)
	}
	rejected := func(s risk.Assessment, cycle, on, actor, reason string) review.Packet {
		return review.Packet{ReviewID: review.ID(s.AccountID, cycle), AccountID: s.AccountID, Owner: s.Owner, Cycle: cycle, State: review.Rejected,
			Decision: &review.Decision{Kind: review.Reject, Actor: actor, Reason: reason, At: day(on)}, UpdatedAt: day(on)}
	}
	closed := func(s risk.Assessment, cycle, on string, kind review.OutcomeKind) review.Packet {
		return review.Packet{ReviewID: review.ID(s.AccountID, cycle), AccountID: s.AccountID, Owner: s.Owner, Cycle: cycle, State: review.Closed,
			Outcome: &review.Outcome{Kind: kind, Actor: "sam", Note: "renewal call\nslipped", At: day(on)}, UpdatedAt: day(on)}
	}
	open := closed(steady[4], "2026-11-09", "2026-11-10", review.Saved)
	open.State, open.Outcome = review.AwaitingOutcome, nil
	cases := []struct {
		name    string
		account risk.Assessment
		packets []review.Packet
		reserve bool   // a review runs, holding the account
		want    string // "" = no review
	}{
		{"rejected 4 weeks ago", steady[0], []review.Packet{rejected(steady[0], "2026-10-19", "2026-10-20", "dana", "sponsor meets quarterly")},
			false, "4 weeks after " + review.ID(steady[0].AccountID, "2026-10-19") + " was rejected by dana: 'sponsor meets quarterly'"},
		{"rejected 2 weeks ago", steady[1], []review.Packet{rejected(steady[1], "2026-11-02", "2026-11-03", "dana", "seasonal")}, false, ""},
		{"still at risk 5 weeks ago", steady[2], []review.Packet{closed(steady[2], "2026-09-21", "2026-10-13", review.StillAtRisk)},
			false, "5 weeks after the outcome still_at_risk recorded by sam on " + review.ID(steady[2].AccountID, "2026-09-21") + ": 'renewal call slipped'"},
		{"saved", steady[3], []review.Packet{closed(steady[3], "2026-09-21", "2026-10-13", review.Saved)}, false, ""},
		{"open review", steady[4], []review.Packet{rejected(steady[4], "2026-09-21", "2026-09-22", "dana", "seasonal"), open}, false, ""},
		{"follow-up rejected 3 weeks ago", steady[5], []review.Packet{
			rejected(steady[5], "2026-09-14", "2026-09-15", "dana", "seasonal"),
			rejected(steady[5], "2026-10-19", "2026-10-27", "lee", "still seasonal"),
		}, false, ""},
		{"review running", steady[6], []review.Packet{rejected(steady[6], "2026-09-21", "2026-09-22", "dana", "seasonal")}, true, ""},
		{"healthy now", healthy, []review.Packet{rejected(healthy, "2026-09-21", "2026-09-22", "dana", "seasonal")}, false, ""},
	}
	for _, c := range cases {
		for _, p := range c.packets {
			if err := a.Store.SavePacket(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		if c.reserve {
			r := store.Reservation{AccountID: c.account.AccountID, ReviewID: review.ID(c.account.AccountID, "2026-11-09"), Cycle: "2026-11-09", ReservedAt: time.Now()}
			if _, _, err := a.Store.ReserveAccount(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
	}

	again := scoreChunks(t, env, res, 15)
	for _, c := range cases {
		i := slices.IndexFunc(again.Candidates, func(cand workflows.Candidate) bool { return cand.AccountID == c.account.AccountID })
		switch {
		case c.want == "" && i >= 0:
			t.Errorf("%s: a review for %s: %q", c.name, c.account.AccountID, again.Candidates[i].Reason)
		case c.want == "":
		case i < 0:
			t.Errorf("%s: no review for %s (%s)", c.name, c.account.AccountID, c.account.Tier)
		default:
			cand := again.Candidates[i]
			want := "still " + string(c.account.Tier) + " " + c.want
			if !strings.Contains(cand.Reason, want) {
				t.Errorf("%s: reason %q, want it to say %q", c.name, cand.Reason, want)
			}
			// The reason is what the new review's packet says triggered it.
			if ev := workflows.NewReviewInput(cand, res.AsOf, review.Policy{}).Event; ev != cand.Reason {
				t.Errorf("%s: the review's event is %q, not the reason", c.name, ev)
			}
		}
	}
	if !slices.Contains(again.OpenReviews, steady[6].AccountID) {
		t.Errorf("open reviews %v, want %s's among them", again.OpenReviews, steady[6].AccountID)
	}
	if len(again.Candidates) != len(baseline.Candidates)+2 {
		t.Errorf("%d candidates, want the %d crossings and 2 follow-ups", len(again.Candidates), len(baseline.Candidates))
	}
}
