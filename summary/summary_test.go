package summary

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/store"
)

const (
	w0 = "2026-10-26"
	w1 = "2026-11-02"
	w2 = "2026-11-09"
	w3 = "2026-11-16"
)

// flagged0 is when the week-1 reviews were opened.
var flagged0 = time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)

func days(n float64) time.Duration { return time.Duration(n * 24 * float64(time.Hour)) }

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func score(id, week string, tier risk.Tier, arr float64) risk.Assessment {
	return risk.Assessment{AccountID: id, AccountName: "Acct " + id, Owner: "dana", AsOf: week, Tier: tier,
		Score: map[risk.Tier]int{risk.Critical: 85, risk.Elevated: 65, risk.Watch: 45, risk.Healthy: 10}[tier],
		ARR:   arr, RenewalDate: "2027-01-31", ModelVersion: "v1", ConfigHash: "h1",
		SLAHours: map[risk.Tier]int{risk.Critical: 48, risk.Elevated: 168}[tier],
		Signals: []risk.Signal{{ID: "login_drop", Dimension: "usage", Points: 12, Text: "Logins fell 38% over 3 weeks (120/wk to 74/wk)",
			Evidence: risk.Evidence{Field: "logins", Weeks: []string{w0, week}, Values: []float64{120, 74}}}}}
}

func event(reviewID string, kind review.EventKind, at time.Time, detail string) review.Event {
	return review.Event{Key: review.EventKey(reviewID, "", kind, 0), ReviewID: reviewID, Kind: kind, Actor: "dana", At: at, Detail: detail}
}

// fixture builds a record whose answers are worked out by hand in the tests:
//
//	week 1: A critical 100k, B elevated 50k, C watch 30k, D healthy 20k
//	week 2: A critical 100k, B elevated 50k, C elevated 30k, D healthy 20k, E insufficient 10k
//
// Reviews: A (week 1) approved after 3 days, complete packet, saved.
// B (week 1) awaiting a decision, escalated; packet lacks decision and follow-up.
// C has no review. D (week 1) rejected as not at risk.
// X (cycle w0, events only) approved (edited) 20 days after its flag, churned.
// Y (cycle w3) and D's week-3 packet lie after week 2 and must not count.
func fixture(t *testing.T) store.Store {
	ctx := context.Background()
	st := openStore(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.SaveScores(ctx, "b1", []risk.Assessment{
		score("A", w1, risk.Critical, 100000), score("B", w1, risk.Elevated, 50000),
		score("C", w1, risk.Watch, 30000), score("D", w1, risk.Healthy, 20000),
	}))
	must(st.SaveScores(ctx, "b2", []risk.Assessment{
		score("A", w2, risk.Critical, 100000), score("B", w2, risk.Elevated, 50000),
		score("C", w2, risk.Elevated, 30000), score("D", w2, risk.Healthy, 20000),
		score("E", w2, risk.InsufficientEvidence, 10000),
	}))

	plan := []review.PlanStep{{Day: 0, Action: "Call the sponsor", Owner: "dana"}}
	// A was decided past its 48 h SLA after the reminder; B is past it,
	// escalated to the manager.
	esc := review.Escalation{Path: []string{"dana", "lee"}, Level: 1, RemindedAt: []time.Time{flagged0.Add(days(2) + time.Hour)}}
	escalatedAt := flagged0.Add(days(2))
	ridA, ridB, ridD := review.ID("A", w1), review.ID("B", w1), review.ID("D", w1)
	a := review.Packet{ReviewID: ridA, AccountID: "A", AccountName: "Acct A", Owner: "dana", Cycle: w1,
		State: review.ActionAssigned, Event: "crossed into critical", Severity: risk.Critical,
		Assessment: score("A", w1, risk.Critical, 100000), Draft: &review.Draft{SavePlan: plan}, Escalation: esc,
		Decision: &review.Decision{Kind: review.Approve, Actor: "dana", At: flagged0.Add(days(3))},
		Action:   &review.Action{Owner: "dana", Plan: plan}, FollowUpDate: "2026-11-20",
		CreatedAt: flagged0, UpdatedAt: flagged0.Add(days(3))}
	b := review.Packet{ReviewID: ridB, AccountID: "B", AccountName: "Acct B", Owner: "dana", Cycle: w1,
		State: review.AwaitingApproval, Event: "elevated at first scan", Severity: risk.Elevated,
		Assessment: score("B", w1, risk.Elevated, 50000), Draft: &review.Draft{SavePlan: plan},
		Escalation: review.Escalation{Path: []string{"dana", "lee"}, Level: 2, EscalatedTo: "lee", EscalatedAt: &escalatedAt},
		CreatedAt:  flagged0, UpdatedAt: flagged0.Add(days(2))}
	d := review.Packet{ReviewID: ridD, AccountID: "D", AccountName: "Acct D", Owner: "sam", Cycle: w1,
		State: review.Rejected, Event: "score jumped", Severity: risk.Elevated,
		Decision:  &review.Decision{Kind: review.Reject, Actor: "sam", Reason: "seasonal dip", At: flagged0.Add(days(1))},
		CreatedAt: flagged0, UpdatedAt: flagged0.Add(days(1))}
	later := review.Packet{ReviewID: review.ID("D", w3), AccountID: "D", Owner: "sam", Cycle: w3,
		State: review.AwaitingApproval, CreatedAt: flagged0.Add(days(14)), UpdatedAt: flagged0.Add(days(14))}
	for _, p := range []review.Packet{a, b, d, later} {
		must(st.SavePacket(ctx, p))
	}

	ridX, ridY := review.ID("X", w0), review.ID("Y", w3)
	for _, e := range []review.Event{
		event(ridA, review.EventFlagged, flagged0, "crossed into critical"),
		event(ridA, review.EventReviewed, flagged0.Add(days(3)), "approve"),
		event(ridA, review.EventActionAssigned, flagged0.Add(days(3)), ""),
		event(ridA, review.EventOutreachSent, flagged0.Add(days(4)), ""),
		event(ridA, review.EventSaved, flagged0.Add(days(20)), ""),
		event(ridB, review.EventFlagged, flagged0, ""),
		event(ridB, review.EventEscalated, flagged0.Add(days(2)), "to lee"),
		event(ridD, review.EventFlagged, flagged0, ""),
		event(ridD, review.EventReviewed, flagged0.Add(days(1)), "reject"),
		event(ridD, review.EventRiskRejected, flagged0.Add(days(1)), "candidate false positive: seasonal dip"),
		event(ridX, review.EventFlagged, flagged0.Add(-days(10)), ""),
		event(ridX, review.EventReviewed, flagged0.Add(days(10)), "edit"),
		event(ridX, review.EventActionAssigned, flagged0.Add(days(10)), ""),
		event(ridX, review.EventChurned, flagged0.Add(days(30)), ""),
		event(ridY, review.EventFlagged, flagged0.Add(days(14)), ""),
		event(ridY, review.EventReviewed, flagged0.Add(days(15)), "approve"),
	} {
		_, err := st.AppendEvent(ctx, e)
		must(err)
	}
	return st
}

func ptr(f float64) *float64 { return &f }

func TestBuild(t *testing.T) {
	st := fixture(t)
	s, err := Build(context.Background(), st, "") // latest = w2
	if err != nil {
		t.Fatal(err)
	}
	if s.Week != w2 || s.PreviousWeek != w1 || s.Accounts != 5 {
		t.Errorf("week %s previous %s accounts %d; want %s %s 5", s.Week, s.PreviousWeek, s.Accounts, w2, w1)
	}
	if want := (TierCounts{Critical: 1, Elevated: 2, Healthy: 1, InsufficientEvidence: 1}); s.Tiers != want {
		t.Errorf("tiers = %+v, want %+v", s.Tiers, want)
	}
	if want := (TierARR{Critical: 100000, Elevated: 80000, Healthy: 20000, InsufficientEvidence: 10000}); s.ARRByTier != want {
		t.Errorf("ARR by tier = %+v, want %+v", s.ARRByTier, want)
	}
	if s.ARRAtRisk != 180000 {
		t.Errorf("ARR at risk = %v, want 180000", s.ARRAtRisk)
	}
	wantChange := &Change{
		Tiers:     TierCounts{Elevated: 1, Watch: -1, InsufficientEvidence: 1},
		ARRByTier: TierARR{Elevated: 30000, Watch: -30000, InsufficientEvidence: 10000},
		ARRAtRisk: 30000,
	}
	if !reflect.DeepEqual(s.Change, wantChange) {
		t.Errorf("change = %+v, want %+v", s.Change, wantChange)
	}
	var top []string
	for _, a := range s.TopAtRisk {
		top = append(top, a.AccountID+":"+a.ReviewState)
	}
	if want := []string{"A:action_assigned", "B:awaiting_approval", "C:"}; !reflect.DeepEqual(top, want) {
		t.Errorf("top at risk = %v, want %v", top, want)
	}

	if s.Reviews != 4 {
		t.Errorf("reviews = %d, want 4 (A, B, D, X)", s.Reviews)
	}
	wantIV := Interventions{Decided: 3, OutreachApproved: 2, Rejected: 1, ActionsAssigned: 2, OutreachSent: 1, Escalated: 1, AwaitingDecision: 1}
	if s.Interventions != wantIV {
		t.Errorf("interventions = %+v, want %+v", s.Interventions, wantIV)
	}
	if want := (Outcomes{Saved: 1, Churned: 1, Pending: 1}); s.Outcomes != want {
		t.Errorf("outcomes = %+v, want %+v", s.Outcomes, want)
	}
	for name, got := range map[string]struct{ got, want *float64 }{
		"save rate":            {s.SaveRate, ptr(0.5)},
		"false-positive rate":  {s.FalsePositiveRate, ptr(0.3333)},
		"median days":          {s.MedianDaysFlagToOutreach, ptr(11.5)}, // 3 and 20 days
		"within 14 days":       {s.OutreachWithinWindowRate, ptr(0.5)},
		"packet completeness ": {s.PacketCompleteness.Rate, ptr(0.3333)},
	} {
		if got.got == nil || *got.got != *got.want {
			t.Errorf("%s = %v, want %v", name, deref(got.got), *got.want)
		}
	}
	wantIncomplete := []IncompletePacket{
		{ReviewID: review.ID("B", w1), AccountID: "B", AccountName: "Acct B", Owner: "dana", Tier: risk.Elevated, ARR: 50000,
			Missing: []string{"decision", "follow_up_date"}},
		{AccountID: "C", AccountName: "Acct C", Owner: "dana", Tier: risk.Elevated, ARR: 30000, Missing: review.PacketParts},
	}
	if pc := s.PacketCompleteness; pc.AtRisk != 3 || pc.Complete != 1 || !reflect.DeepEqual(pc.Incomplete, wantIncomplete) {
		t.Errorf("packet completeness = %+v\nwant at_risk 3, complete 1, incomplete %+v", pc, wantIncomplete)
	}
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

func TestBuildEarlierWeekIgnoresLaterReviews(t *testing.T) {
	st := fixture(t)
	s, err := Build(context.Background(), st, w1)
	if err != nil {
		t.Fatal(err)
	}
	if s.PreviousWeek != "" || s.Change != nil {
		t.Errorf("first week has previous %q change %+v; want none", s.PreviousWeek, s.Change)
	}
	if s.ARRAtRisk != 150000 || s.Tiers.Watch != 1 {
		t.Errorf("week 1 ARR at risk %v watch %d; want 150000 and 1", s.ARRAtRisk, s.Tiers.Watch)
	}
	// Y's cycle is week 3, after week 1; D's week-3 packet likewise.
	if s.Reviews != 4 {
		t.Errorf("reviews = %d, want 4", s.Reviews)
	}
	if _, err := Build(context.Background(), st, "2026-11-04"); !errors.Is(err, ErrNoScores) || !strings.Contains(err.Error(), "no scores for week 2026-11-04") {
		t.Errorf("unscored week: err = %v", err)
	}
}

func TestBuildUnknownIsNull(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	if _, err := Build(ctx, st, ""); !errors.Is(err, ErrNoScores) {
		t.Fatalf("empty store: err = %v, want ErrNoScores", err)
	}
	if err := st.SaveScores(ctx, "b", []risk.Assessment{score("D", w1, risk.Healthy, 20000)}); err != nil {
		t.Fatal(err)
	}
	s, err := Build(ctx, st, "")
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"save_rate", "false_positive_rate", "median_days_flag_to_outreach", "change_from_previous_week"} {
		if v, ok := m[key]; !ok || v != nil {
			t.Errorf("%s = %v (present %v), want null", key, v, ok)
		}
	}
	pc := m["packet_completeness"].(map[string]any)
	if pc["rate"] != nil || pc["incomplete"] == nil {
		t.Errorf("packet_completeness = %v; want rate null and incomplete []", pc)
	}
	if md := s.Markdown(); !strings.Contains(md, "Save rate (saved / saved + churned): unknown (no saved or churned outcome yet)") {
		t.Errorf("Markdown does not say the save rate is unknown:\n%s", md)
	}
}

// TestSummaryJSONContract checks the fields scripts depend on (contract/cli.md).
func TestSummaryJSONContract(t *testing.T) {
	s, err := Build(context.Background(), fixture(t), "")
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"week", "tiers", "arr_at_risk", "save_rate", "false_positive_rate", "median_days_flag_to_outreach", "packet_completeness"} {
		if _, ok := m[key]; !ok {
			t.Errorf("summary JSON lacks %q", key)
		}
	}
	tiers := m["tiers"].(map[string]any)
	for _, tier := range risk.Tiers {
		if _, ok := tiers[string(tier)]; !ok {
			t.Errorf("tiers lacks %q", tier)
		}
	}
	inc := m["packet_completeness"].(map[string]any)["incomplete"].([]any)
	if len(inc) != 2 {
		t.Fatalf("incomplete = %v", inc)
	}
	last := inc[1].(map[string]any)
	if last["review_id"] != "" || last["account_id"] != "C" || len(last["missing"].([]any)) != 8 {
		t.Errorf("account without a packet = %v; want review_id \"\" and all 8 parts missing", last)
	}
}

func TestMarkdownAndCSV(t *testing.T) {
	s, err := Build(context.Background(), fixture(t), "")
	if err != nil {
		t.Fatal(err)
	}
	md := s.Markdown()
	for _, want := range []string{
		"# Churn risk summary: week of 2026-11-09",
		"**ARR at risk (elevated + critical): $180,000** (+$30,000 since 2026-11-02)",
		"| elevated | 2 | $80,000 | +1 | +$30,000 |",
		"| watch | 0 | $0 | -1 | -$30,000 |",
		"| Acct A (A) | dana | critical | 85 | $100,000 | 2027-01-31 | action_assigned review/A/2026-11-02 |",
		"Save rate (saved / saved + churned): 50.0%",
		"Median days from flag to approved outreach: 11.5",
		"Approved outreach within 14 days of the flag: 50.0%",
		"Complete packets (all eight parts) for elevated and critical accounts: 1 of 3, 33.3%.",
		"| Acct C (C) | elevated | no review | event, evidence, severity, owner, mitigation, escalation, decision, follow_up_date |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q\n%s", want, md)
		}
	}

	recs, err := csv.NewReader(strings.NewReader(s.CSV())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"week", "tier", "accounts", "arr", "previous_week", "accounts_change", "arr_change"},
		{w2, "critical", "1", "100000", w1, "0", "0"},
		{w2, "elevated", "2", "80000", w1, "1", "30000"},
		{w2, "watch", "0", "0", w1, "-1", "-30000"},
		{w2, "healthy", "1", "20000", w1, "0", "0"},
		{w2, "insufficient_evidence", "1", "10000", w1, "1", "10000"},
	}
	if !reflect.DeepEqual(recs, want) {
		t.Errorf("CSV = %v\nwant %v", recs, want)
	}
}

func TestAudit(t *testing.T) {
	aps, err := Audit(context.Background(), fixture(t), w2)
	if err != nil {
		t.Fatal(err)
	}
	if len(aps) != 3 {
		t.Fatalf("audited %d packets, want 3 (A, B, C)", len(aps))
	}
	a, b, c := aps[0], aps[1], aps[2]
	if a.AccountID != "A" || !a.Complete || len(a.Missing) != 0 || a.Decision == nil || len(a.Mitigation) != 1 || a.Escalation == nil {
		t.Errorf("A = %+v; want a complete packet", a)
	}
	if b.AccountID != "B" || b.Complete || !reflect.DeepEqual(b.Missing, []string{"decision", "follow_up_date"}) {
		t.Errorf("B = %+v; want missing decision and follow_up_date", b)
	}
	if c.AccountID != "C" || c.ReviewID != "" || !reflect.DeepEqual(c.Missing, review.PacketParts) {
		t.Errorf("C = %+v; want no review and every part missing", c)
	}
	js, err := json.Marshal(aps)
	if err != nil {
		t.Fatal(err)
	}
	var ms []map[string]any
	if err := json.Unmarshal(js, &ms); err != nil {
		t.Fatal(err)
	}
	for _, part := range append(slices.Clone(review.PacketParts), "missing") {
		if _, ok := ms[2][part]; !ok {
			t.Errorf("audit JSON lacks %q: %v", part, ms[2])
		}
	}
}

func TestRiskRegisterCSV(t *testing.T) {
	risky := score("A", w2, risk.Critical, 100000)
	risky.AccountName = "=HYPERLINK(\"http://evil\")"
	risky.Priority = 1
	risky.Signals = append(risky.Signals, risk.Signal{ID: "champion_left", Points: 20, Text: "The champion left on 2026-11-04"})
	quiet := score("D", w2, risk.Healthy, 20000)
	quiet.Priority = 2
	quiet.Signals = nil
	packets := []review.Packet{
		{ReviewID: review.ID("A", w1), AccountID: "A", Cycle: w1, State: review.Closed},
		{ReviewID: review.ID("A", w2), AccountID: "A", Cycle: w2, State: review.ActionAssigned, FollowUpDate: "2026-11-23",
			Decision: &review.Decision{Kind: review.EditAndApprove, Actor: "dana"}},
	}
	var buf bytes.Buffer
	if err := RiskRegisterCSV(&buf, []risk.Assessment{risky, quiet}, packets); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"account_id", "account_name", "owner", "tier", "score", "priority", "arr", "renewal_date", "top_signals", "missing", "review_id", "review_state", "decision", "follow_up_date"},
		{"A", "'=HYPERLINK(\"http://evil\")", "dana", "critical", "85", "1", "100000", "2027-01-31",
			"The champion left on 2026-11-04; Logins fell 38% over 3 weeks (120/wk to 74/wk)", "", "review/A/2026-11-09", "action_assigned", "edit by dana", "2026-11-23"},
		{"D", "Acct D", "dana", "healthy", "10", "2", "20000", "2027-01-31", "", "", "", "", "", ""},
	}
	if !reflect.DeepEqual(recs, want) {
		t.Errorf("register =\n%q\nwant\n%q", recs, want)
	}
}
