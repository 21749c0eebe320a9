package summary

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/store"
)

// The trend fixture's weeks: tw0 is scored but lies before a 3-week window.
const (
	tw0 = "2026-10-26"
	tw1 = "2026-11-02"
	tw2 = "2026-11-09"
	tw3 = "2026-11-16"
)

func at(month time.Month, day, hour int) time.Time {
	return time.Date(2026, month, day, hour, 0, 0, 0, time.UTC)
}

func owned(a risk.Assessment, owner string) risk.Assessment {
	a.Owner = owner
	return a
}

// trendFixture is a small book whose figures are worked out by hand in
// TestBuildTrends. Owners: A, B, P dana; C, X sam; L, N lee.
//
//	tw0: P critical 40k, A healthy 100k
//	tw1: A critical 100k, B elevated 50k, C watch 30k, L healthy 20k, P critical 40k, X watch 5k
//	tw2: A critical 100k, B elevated 50k, C elevated 30k, L elevated 20k, P critical 40k, X watch 5k
//	tw3: A elevated 100k, B healthy 50k, C elevated 30k, L critical 20k, P critical 40k, X watch 5k, N insufficient 10k
//
// Reviews (flag = packet creation; "days" = flag to approved outreach):
//
//	P (cycle tw0, before the window): approved 10-29 (2 days), complete, saved 11-10
//	A (tw1): approved 11-06 (72 h, 3 days), complete, saved 11-20
//	B (tw1): escalated, approved 11-20 (408 h, 17 days: after the window), churned 11-21
//	C (tw2): rejected 11-11 (24 h), packet lacks its follow-up date
//	L (tw2): approved 11-12 21:00 (60 h, 2.5 days), complete, churned 11-18
//	X (tw1): events only, approved 11-04 (1 day), saved 11-12
func trendFixture(t *testing.T) store.Store {
	ctx := context.Background()
	st := openStore(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	s := func(id, week, owner string, tier risk.Tier, arr float64) risk.Assessment {
		return owned(score(id, week, tier, arr), owner)
	}
	must(st.SaveScores(ctx, "t0", []risk.Assessment{s("P", tw0, "dana", risk.Critical, 40000), s("A", tw0, "dana", risk.Healthy, 100000)}))
	must(st.SaveScores(ctx, "t1", []risk.Assessment{
		s("A", tw1, "dana", risk.Critical, 100000), s("B", tw1, "dana", risk.Elevated, 50000), s("C", tw1, "sam", risk.Watch, 30000),
		s("L", tw1, "lee", risk.Healthy, 20000), s("P", tw1, "dana", risk.Critical, 40000), s("X", tw1, "sam", risk.Watch, 5000)}))
	must(st.SaveScores(ctx, "t2", []risk.Assessment{
		s("A", tw2, "dana", risk.Critical, 100000), s("B", tw2, "dana", risk.Elevated, 50000), s("C", tw2, "sam", risk.Elevated, 30000),
		s("L", tw2, "lee", risk.Elevated, 20000), s("P", tw2, "dana", risk.Critical, 40000), s("X", tw2, "sam", risk.Watch, 5000)}))
	must(st.SaveScores(ctx, "t3", []risk.Assessment{
		s("A", tw3, "dana", risk.Elevated, 100000), s("B", tw3, "dana", risk.Healthy, 50000), s("C", tw3, "sam", risk.Elevated, 30000),
		s("L", tw3, "lee", risk.Critical, 20000), s("P", tw3, "dana", risk.Critical, 40000), s("X", tw3, "sam", risk.Watch, 5000),
		s("N", tw3, "lee", risk.InsufficientEvidence, 10000)}))

	plan := []review.PlanStep{{Day: 0, Action: "Call the sponsor", Owner: "dana"}}
	esc := review.Escalation{Path: []string{"owner", "manager"}}
	packet := func(id, cycle, owner string, created time.Time) review.Packet {
		return review.Packet{ReviewID: review.ID(id, cycle), AccountID: id, AccountName: "Acct " + id, Owner: owner, Cycle: cycle,
			State: review.AwaitingApproval, Event: "crossed into elevated", Severity: risk.Elevated,
			Assessment: s(id, cycle, owner, risk.Elevated, 1), Draft: &review.Draft{SavePlan: plan}, Escalation: esc,
			CreatedAt: created, UpdatedAt: created}
	}
	approved := func(p review.Packet, decided time.Time, outcome review.OutcomeKind, outcomeAt time.Time) review.Packet {
		p.State = review.Closed
		p.Decision = &review.Decision{Kind: review.Approve, Actor: p.Owner, At: decided}
		p.Action = &review.Action{Owner: p.Owner, Plan: plan}
		p.FollowUpDate = decided.AddDate(0, 0, 14).Format(time.DateOnly)
		p.Outcome = &review.Outcome{Kind: outcome, Actor: p.Owner, At: outcomeAt}
		return p
	}
	c := packet("C", tw2, "sam", at(11, 10, 9))
	c.State, c.Decision = review.Rejected, &review.Decision{Kind: review.Reject, Actor: "sam", Reason: "seasonal", At: at(11, 11, 9)}
	b := approved(packet("B", tw1, "dana", at(11, 3, 9)), at(11, 20, 9), review.Churned, at(11, 21, 9))
	// B was decided 17 days after it opened, past its 7-day SLA: reminded,
	// then escalated to the manager.
	escalatedAt := at(11, 11, 9)
	b.Escalation = review.Escalation{Path: esc.Path, Level: 2, RemindedAt: []time.Time{at(11, 10, 9)}, EscalatedTo: "lee", EscalatedAt: &escalatedAt}
	for _, p := range []review.Packet{
		approved(packet("P", tw0, "dana", at(10, 27, 9)), at(10, 29, 9), review.Saved, at(11, 10, 9)),
		approved(packet("A", tw1, "dana", at(11, 3, 9)), at(11, 6, 9), review.Saved, at(11, 20, 9)),
		b, c,
		approved(packet("L", tw2, "lee", at(11, 10, 9)), at(11, 12, 21), review.Churned, at(11, 18, 9)),
	} {
		must(st.SavePacket(ctx, p))
	}
	rid := func(id, cycle string) string { return review.ID(id, cycle) }
	for _, e := range []review.Event{
		event(rid("P", tw0), review.EventFlagged, at(10, 27, 9), ""),
		event(rid("P", tw0), review.EventReviewed, at(10, 29, 9), "approve"),
		event(rid("P", tw0), review.EventSaved, at(11, 10, 9), ""),
		event(rid("A", tw1), review.EventFlagged, at(11, 3, 9), ""),
		event(rid("A", tw1), review.EventReviewed, at(11, 6, 9), "approve"),
		event(rid("A", tw1), review.EventActionAssigned, at(11, 6, 9), ""),
		event(rid("A", tw1), review.EventSaved, at(11, 20, 9), ""),
		event(rid("B", tw1), review.EventFlagged, at(11, 3, 9), ""),
		event(rid("B", tw1), review.EventEscalated, at(11, 5, 9), "to lee"),
		event(rid("B", tw1), review.EventReviewed, at(11, 20, 9), "approve"),
		event(rid("B", tw1), review.EventChurned, at(11, 21, 9), ""),
		event(rid("C", tw2), review.EventFlagged, at(11, 10, 9), ""),
		event(rid("C", tw2), review.EventReviewed, at(11, 11, 9), "reject"),
		event(rid("C", tw2), review.EventRiskRejected, at(11, 11, 9), "seasonal"),
		event(rid("L", tw2), review.EventFlagged, at(11, 10, 9), ""),
		event(rid("L", tw2), review.EventReviewed, at(11, 12, 21), "approve"),
		event(rid("L", tw2), review.EventChurned, at(11, 18, 9), ""),
		event(rid("X", tw1), review.EventFlagged, at(11, 3, 9), ""),
		event(rid("X", tw1), review.EventReviewed, at(11, 4, 9), "approve"),
		event(rid("X", tw1), review.EventSaved, at(11, 12, 9), ""),
	} {
		_, err := st.AppendEvent(ctx, e)
		must(err)
	}
	return st
}

// ids names the fixture's reviews: "A" is review/A/<its cycle>.
func ids(names ...string) []string {
	cycle := map[string]string{"P": tw0, "A": tw1, "B": tw1, "X": tw1, "C": tw2, "L": tw2}
	out := []string{}
	for _, n := range names {
		out = append(out, review.ID(n, cycle[n]))
	}
	return out
}

func emptyDrill() map[string][]string {
	d := map[string][]string{}
	for _, k := range drillKeys {
		d[k] = []string{}
	}
	return d
}

func wantWeeks() []WeekTrend {
	d1, d2, d3 := emptyDrill(), emptyDrill(), emptyDrill()
	d1[DrillOpened], d1[DrillDecided], d1[DrillIncomplete] = ids("A", "B"), ids("A"), ids("B")
	d2[DrillOpened], d2[DrillDecided], d2[DrillIncomplete] = ids("C", "L"), ids("C", "L"), ids("B", "C")
	d2[DrillSavedWithin], d2[DrillFalsePositive] = ids("P", "X"), ids("C")
	d3[DrillDecided], d3[DrillIncomplete], d3[DrillFalsePositive] = ids("B"), ids("C"), ids("C")
	d3[DrillSavedWithin], d3[DrillChurnedWithin], d3[DrillChurnedLater] = ids("A", "P", "X"), ids("L"), ids("B")
	d3[DrillChurned] = ids("B", "L")
	return []WeekTrend{{
		Week: tw1, Accounts: 6, Tiers: TierCounts{Critical: 2, Elevated: 1, Watch: 2, Healthy: 1},
		ARRByTier: TierARR{Critical: 140000, Elevated: 50000, Watch: 35000, Healthy: 20000}, ARRAtRisk: 190000,
		ReviewsOpened: 2, ReviewsDecided: 1, MedianHoursToDecision: ptr(72),
		// P, A, B, X; B is not decided until week 3, and no outcome is in yet.
		ReviewsToDate: 4, DecidedToDate: 3, FalsePositiveRate: ptr(0), MedianDaysFlagToOutreach: ptr(2), OutreachWithinWindowRate: ptr(1),
		PacketCompletenessRate: ptr(0.6667), PacketsAtRisk: 3, PacketsComplete: 2, Drill: d1,
	}, {
		Week: tw2, Accounts: 6, Tiers: TierCounts{Critical: 2, Elevated: 3, Watch: 1},
		ARRByTier: TierARR{Critical: 140000, Elevated: 100000, Watch: 5000}, ARRAtRisk: 240000,
		ReviewsOpened: 2, ReviewsDecided: 2, MedianHoursToDecision: ptr(42), // 24 and 60
		ReviewsToDate: 6, DecidedToDate: 5, FalsePositives: 1, FalsePositiveRate: ptr(0.2),
		MedianDaysFlagToOutreach: ptr(2.25), OutreachWithinWindowRate: ptr(1), // 1, 2, 2.5, 3
		SavedWithinWindow:      SaveSplit{Rate: ptr(1), Saved: 2},
		PacketCompletenessRate: ptr(0.6), PacketsAtRisk: 5, PacketsComplete: 3, Drill: d2,
	}, {
		Week: tw3, Accounts: 7, Tiers: TierCounts{Critical: 2, Elevated: 2, Watch: 1, Healthy: 1, InsufficientEvidence: 1},
		ARRByTier: TierARR{Critical: 60000, Elevated: 130000, Watch: 5000, Healthy: 50000, InsufficientEvidence: 10000}, ARRAtRisk: 190000,
		ReviewsOpened: 0, ReviewsDecided: 1, MedianHoursToDecision: ptr(408),
		ReviewsToDate: 6, DecidedToDate: 6, FalsePositives: 1, FalsePositiveRate: ptr(0.1667),
		MedianDaysFlagToOutreach: ptr(2.5), OutreachWithinWindowRate: ptr(0.8), // 1, 2, 2.5, 3, 17
		SavedWithinWindow:      SaveSplit{Rate: ptr(0.75), Saved: 3, Churned: 1},
		SavedAfterWindow:       SaveSplit{Rate: ptr(0), Churned: 1}, // known, and zero
		PacketCompletenessRate: ptr(0.75), PacketsAtRisk: 4, PacketsComplete: 3, Drill: d3,
	}}
}

func TestBuildTrends(t *testing.T) {
	st := trendFixture(t)
	tr, err := BuildTrends(context.Background(), st, TrendQuery{Weeks: 3})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Through != tw3 || len(tr.Weeks) != 3 {
		t.Fatalf("through %s, %d weeks; want %s, 3", tr.Through, len(tr.Weeks), tw3)
	}
	for i, want := range wantWeeks() {
		if got := tr.Weeks[i]; !reflect.DeepEqual(got, want) {
			t.Errorf("week %s:\n got %s\nwant %s", want.Week, dump(got), dump(want))
		}
	}
	// Window: reviews of cycles tw1 to tw3 (P is older); accounts and ARR at risk of tw3.
	wantOwners := []GroupTrend{
		{Name: "dana", Accounts: 3, ARRAtRisk: 140000, ReviewsOpened: 2, ReviewsDecided: 2, MedianHoursToDecision: ptr(240),
			SaveRate: ptr(0.5), OutreachWithin14Rate: ptr(0.5)}, // A saved within, B churned after
		{Name: "sam", Accounts: 2, ARRAtRisk: 30000, ReviewsOpened: 1, ReviewsDecided: 1, MedianHoursToDecision: ptr(24),
			SaveRate: ptr(1), OutreachWithin14Rate: ptr(1)}, // X (events only, X's owner) saved
		{Name: "lee", Accounts: 2, ARRAtRisk: 20000, ReviewsOpened: 1, ReviewsDecided: 1, MedianHoursToDecision: ptr(60),
			SaveRate: ptr(0), OutreachWithin14Rate: ptr(1)},
	}
	if !reflect.DeepEqual(tr.ByOwner, wantOwners) {
		t.Errorf("by owner:\n got %s\nwant %s", dump(tr.ByOwner), dump(wantOwners))
	}
	wantTeam := []GroupTrend{{Name: "", Accounts: 7, ARRAtRisk: 190000, ReviewsOpened: 4, ReviewsDecided: 4,
		MedianHoursToDecision: ptr(66), SaveRate: ptr(0.5), OutreachWithin14Rate: ptr(0.75)}}
	if !reflect.DeepEqual(tr.ByTeam, wantTeam) {
		t.Errorf("by team without TeamOf:\n got %s\nwant %s", dump(tr.ByTeam), dump(wantTeam))
	}
}

func dump(v any) string {
	js, _ := json.Marshal(v)
	return string(js)
}

// TestTrendsAgreeWithBuild: the dashboard's latest week must say what
// `starter summary` says.
func TestTrendsAgreeWithBuild(t *testing.T) {
	ctx := context.Background()
	for name, st := range map[string]store.Store{"trend fixture": trendFixture(t), "summary fixture": fixture(t)} {
		tr, err := BuildTrends(ctx, st, TrendQuery{})
		if err != nil {
			t.Fatal(err)
		}
		s, err := Build(ctx, st, "")
		if err != nil {
			t.Fatal(err)
		}
		w := tr.Weeks[len(tr.Weeks)-1]
		if w.Week != s.Week || w.Accounts != s.Accounts || w.Tiers != s.Tiers || w.ARRByTier != s.ARRByTier || w.ARRAtRisk != s.ARRAtRisk {
			t.Errorf("%s: latest week %s %d %+v %+v %v; Build says %s %d %+v %+v %v", name, w.Week, w.Accounts, w.Tiers, w.ARRByTier,
				w.ARRAtRisk, s.Week, s.Accounts, s.Tiers, s.ARRByTier, s.ARRAtRisk)
		}
		if name != "trend fixture" {
			continue // the summary fixture records outcomes after its last week ends
		}
		// Nothing here is recorded after the last week's end, so the
		// to-date figures agree too.
		for what, pair := range map[string][2]*float64{
			"false-positive rate": {w.FalsePositiveRate, s.FalsePositiveRate},
			"median days":         {w.MedianDaysFlagToOutreach, s.MedianDaysFlagToOutreach},
			"within 14 days":      {w.OutreachWithinWindowRate, s.OutreachWithinWindowRate},
			"completeness":        {w.PacketCompletenessRate, s.PacketCompleteness.Rate},
		} {
			if !reflect.DeepEqual(pair[0], pair[1]) {
				t.Errorf("%s: %s = %v, Build says %v", name, what, deref(pair[0]), deref(pair[1]))
			}
		}
		if w.ReviewsToDate != s.Reviews || w.DecidedToDate != s.Interventions.Decided {
			t.Errorf("%s: reviews %d decided %d; Build says %d %d", name, w.ReviewsToDate, w.DecidedToDate, s.Reviews, s.Interventions.Decided)
		}
	}
}

func TestBuildTrendsOwnersAndTeams(t *testing.T) {
	st := trendFixture(t)
	tr, err := BuildTrends(context.Background(), st, TrendQuery{Weeks: 3, Owners: []string{"sam"},
		TeamOf: func(o string) string { return map[string]string{"dana": "east", "sam": "east", "lee": "west"}[o] }})
	if err != nil {
		t.Fatal(err)
	}
	w1, w2 := tr.Weeks[0], tr.Weeks[1]
	// Week 1: sam has C and X (watch), no review opened or decided, X
	// decided (events only), no account at risk: unknown, not zero.
	if w1.Accounts != 2 || w1.Tiers != (TierCounts{Watch: 2}) || w1.ARRAtRisk != 0 || w1.ReviewsOpened != 0 || w1.ReviewsDecided != 0 {
		t.Errorf("sam's week 1 = %s", dump(w1))
	}
	for what, f := range map[string]*float64{"median hours": w1.MedianHoursToDecision, "save rate within": w1.SavedWithinWindow.Rate,
		"save rate after": w1.SavedAfterWindow.Rate, "completeness": w1.PacketCompletenessRate} {
		if f != nil {
			t.Errorf("sam's week 1 %s = %v, want nil", what, *f)
		}
	}
	if w1.ReviewsToDate != 1 || w1.DecidedToDate != 1 || *w1.FalsePositiveRate != 0 || *w1.MedianDaysFlagToOutreach != 1 {
		t.Errorf("sam's week 1 to date = %s; want X only", dump(w1))
	}
	if w2.ReviewsOpened != 1 || w2.DecidedToDate != 2 || *w2.FalsePositiveRate != 0.5 || *w2.SavedWithinWindow.Rate != 1 ||
		*w2.PacketCompletenessRate != 0 || !reflect.DeepEqual(w2.Drill[DrillIncomplete], ids("C")) {
		t.Errorf("sam's week 2 = %s", dump(w2))
	}
	if len(tr.ByOwner) != 1 || tr.ByOwner[0].Name != "sam" || len(tr.ByTeam) != 1 || tr.ByTeam[0].Name != "east" {
		t.Errorf("groups of sam alone: owners %s teams %s", dump(tr.ByOwner), dump(tr.ByTeam))
	}

	tr, err = BuildTrends(context.Background(), st, TrendQuery{Weeks: 3,
		TeamOf: func(o string) string { return map[string]string{"dana": "east", "sam": "east", "lee": "west"}[o] }})
	if err != nil {
		t.Fatal(err)
	}
	wantTeams := []GroupTrend{
		{Name: "east", Accounts: 5, ARRAtRisk: 170000, ReviewsOpened: 3, ReviewsDecided: 3, MedianHoursToDecision: ptr(72), // 24, 72, 408
			SaveRate: ptr(0.6667), OutreachWithin14Rate: ptr(0.6667)}, // A, X saved within; B churned after
		{Name: "west", Accounts: 2, ARRAtRisk: 20000, ReviewsOpened: 1, ReviewsDecided: 1, MedianHoursToDecision: ptr(60),
			SaveRate: ptr(0), OutreachWithin14Rate: ptr(1)},
	}
	if !reflect.DeepEqual(tr.ByTeam, wantTeams) {
		t.Errorf("teams:\n got %s\nwant %s", dump(tr.ByTeam), dump(wantTeams))
	}
}

func TestBuildTrendsWindow(t *testing.T) {
	ctx := context.Background()
	st := trendFixture(t)
	tr, err := BuildTrends(ctx, st, TrendQuery{Through: tw2, Weeks: 12})
	if err != nil {
		t.Fatal(err)
	}
	var weeks []string
	for _, w := range tr.Weeks {
		weeks = append(weeks, w.Week)
	}
	if want := []string{tw0, tw1, tw2}; !reflect.DeepEqual(weeks, want) || tr.Through != tw2 {
		t.Errorf("weeks through %s = %v, want %v", tw2, weeks, want)
	}
	// P opened and decided in tw0; the window now holds it.
	if g := tr.ByOwner[0]; g.Name != "dana" || g.ReviewsOpened != 3 || g.ReviewsDecided != 2 {
		t.Errorf("dana through tw2 = %s; want P, A, B opened and P, A decided", dump(g))
	}
	if _, err := BuildTrends(ctx, st, TrendQuery{Through: "2026-11-04"}); !errors.Is(err, ErrNoScores) {
		t.Errorf("unscored week: err = %v, want ErrNoScores", err)
	}
	if _, err := BuildTrends(ctx, st, TrendQuery{Weeks: -1}); err == nil {
		t.Error("weeks -1: no error")
	}
	if _, err := BuildTrends(ctx, openStore(t), TrendQuery{}); !errors.Is(err, ErrNoScores) {
		t.Errorf("empty store: err = %v, want ErrNoScores", err)
	}
}

func TestTrendsJSONAndCSV(t *testing.T) {
	tr, err := BuildTrends(context.Background(), trendFixture(t), TrendQuery{Weeks: 3})
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ Weeks []map[string]any }
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	w1 := m.Weeks[0]
	if v, ok := w1["save_within_14_days"].(map[string]any)["rate"]; !ok || v != nil {
		t.Errorf("week 1 save_within_14_days.rate = %v (present %v), want null", v, ok)
	}
	if d := w1["drill"].(map[string]any); d[DrillSavedLater] == nil || len(d) != len(drillKeys) {
		t.Errorf("week 1 drill = %v; want every key, with [] for none", d)
	}

	recs, err := csv.NewReader(strings.NewReader(tr.CSV())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := []string{"week", "accounts", "critical_accounts", "elevated_accounts", "watch_accounts", "healthy_accounts",
		"insufficient_evidence_accounts", "critical_arr", "elevated_arr", "watch_arr", "healthy_arr", "insufficient_evidence_arr",
		"arr_at_risk", "reviews_opened", "reviews_decided", "median_hours_to_decision", "reviews_to_date", "decided_to_date",
		"false_positives", "false_positive_rate", "median_days_flag_to_outreach", "outreach_within_14_days_rate",
		"save_rate_within_14_days", "saved_within_14_days", "churned_within_14_days", "save_rate_after_14_days",
		"saved_after_14_days", "churned_after_14_days", "packet_completeness_rate", "packets_at_risk", "packets_complete"}
	if len(recs) != 4 || !reflect.DeepEqual(recs[0], wantHeader) {
		t.Fatalf("CSV has %d rows, header %q", len(recs), recs[0])
	}
	want1 := []string{tw1, "6", "2", "1", "2", "1", "0", "140000", "50000", "35000", "20000", "0", "190000", "2", "1", "72",
		"4", "3", "0", "0", "2", "1", "", "0", "0", "", "0", "0", "0.6667", "3", "2"}
	if !reflect.DeepEqual(recs[1], want1) {
		t.Errorf("CSV week 1 =\n%q\nwant\n%q", recs[1], want1)
	}
	if row := recs[3]; row[0] != tw3 || row[22] != "0.75" || row[25] != "0" {
		t.Errorf("CSV week 3 = %q; want save rates 0.75 and 0", row)
	}
}
