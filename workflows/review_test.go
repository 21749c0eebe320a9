package workflows

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
)

// fakeActivities stands in for package activities in workflow tests: it
// records what the workflow asked for, so the tests check workflow logic
// alone (the real activities have their own tests and the integration test).
type fakeActivities struct {
	mu       sync.Mutex
	packets  []review.Packet
	events   []review.Event
	notices  []notice
	llmErr   error // returned by Draft when set
	llmCalls int
	start    time.Time
	now      func() time.Time // the test clock
}

type notice struct {
	review.Notice
	after time.Duration // since the workflow started, on the test clock
}

func (f *fakeActivities) register(env *testsuite.TestWorkflowEnvironment) {
	reg := func(fn any, name string) { env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name}) }
	reg(func(ctx context.Context, in EvidenceRequest) (Evidence, error) {
		return Evidence{AccountID: in.AccountID, AsOf: in.AsOf}, nil
	}, ActGatherEvidence)
	reg(func(ctx context.Context, ev Evidence) (risk.Assessment, error) {
		return testAssessment(ev.AccountID), nil
	}, ActScoreAccount)
	reg(func(ctx context.Context, in DraftRequest) (review.Draft, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.llmCalls++
		if f.llmErr != nil {
			return review.Draft{}, f.llmErr
		}
		return testDraft("llm:test"), nil
	}, ActDraft)
	reg(func(ctx context.Context, in DraftRequest) (review.Draft, error) {
		d := testDraft("offline")
		if in.FallbackReason != "" {
			d.Notes = append(d.Notes, in.FallbackReason)
		}
		return d, nil
	}, ActDraftOffline)
	reg(func(ctx context.Context, p review.Packet) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.packets = append(f.packets, p)
		return nil
	}, ActSavePacket)
	reg(func(ctx context.Context, e review.Event) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.events = append(f.events, e)
		return nil
	}, ActRecordEvent)
	reg(func(ctx context.Context, n review.Notice) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.notices = append(f.notices, notice{n, f.now().Sub(f.start)})
		return nil
	}, ActNotify)
}

func (f *fakeActivities) eventKinds() []review.EventKind {
	f.mu.Lock()
	defer f.mu.Unlock()
	var kinds []review.EventKind
	for _, e := range f.events {
		kinds = append(kinds, e.Kind)
	}
	return kinds
}

func testAssessment(accountID string) risk.Assessment {
	return risk.Assessment{
		AccountID: accountID, AccountName: "Northwind", Owner: "dana", AsOf: "2026-11-16",
		Score: 83, Tier: risk.Critical, ARR: 120000, SLAHours: 48,
		Signals: []risk.Signal{{ID: "login_drop", Dimension: "usage", Points: 12, Text: "Logins fell 38% over 3 weeks (120/wk to 74/wk)",
			Evidence: risk.Evidence{Field: "logins", Weeks: []string{"2026-10-26", "2026-11-16"}, Values: []float64{120, 74}}}},
	}
}

func testDraft(drafter string) review.Draft {
	return review.Draft{
		Brief:          "Logins fell 38% over 3 weeks [login_drop].",
		BriefCitations: []string{"login_drop"},
		SuspectedCause: "adoption stalled after the champion left (suspected)",
		SavePlan:       []review.PlanStep{{Day: 0, Action: "Call the sponsor", Owner: "dana"}},
		Outreach:       review.Email{Language: "en", Subject: "Your onboarding goal", Body: "Hi, ..."},
		Drafter:        drafter,
	}
}

func testInput() ReviewInput {
	return ReviewInput{
		ReviewID: review.ID("A-1", "2026-11-16"), AccountID: "A-1", AccountName: "Northwind", Owner: "dana",
		Cycle: "2026-11-16", Event: "critical at first scan", Tier: risk.Critical, Score: 83,
		Policy: review.Policy{
			SLACritical: 48 * time.Hour, SLAElevated: 7 * 24 * time.Hour, ReminderGrace: 24 * time.Hour,
			FollowUpAfter: 14 * 24 * time.Hour, OutcomeReminder: 72 * time.Hour,
			Managers: map[string]string{"dana": "maria"}, DefaultManager: "cs-lead", Leaders: []string{"cs-lead"},
		},
	}
}

type ReviewSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env  *testsuite.TestWorkflowEnvironment
	acts *fakeActivities
}

func TestReviewSuite(t *testing.T) { suite.Run(t, new(ReviewSuite)) }

func (s *ReviewSuite) SetupTest() {
	s.SetLogger(quietLogger)
	s.env = s.NewTestWorkflowEnvironment()
	s.acts = &fakeActivities{start: s.env.Now(), now: s.env.Now}
	s.acts.register(s.env)
	s.env.RegisterWorkflowWithOptions(AccountReview, workflowRegisterOptions(ReviewWorkflow))
}

// decide sends the decide update after delay and reports how it went.
func (s *ReviewSuite) decide(delay time.Duration, d review.Decision, rejected *error, accepted *bool) {
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(UpdateDecide, "", &testsuite.TestUpdateCallback{
			OnAccept:   func() { *accepted = true },
			OnReject:   func(err error) { *rejected = err },
			OnComplete: func(any, error) {},
		}, d)
	}, delay)
}

func (s *ReviewSuite) outcome(delay time.Duration, o review.Outcome) {
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(UpdateOutcome, "", &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { s.Fail("outcome refused", err.Error()) },
			OnComplete: func(any, error) {},
		}, o)
	}, delay)
}

func (s *ReviewSuite) result() review.Packet {
	s.True(s.env.IsWorkflowCompleted())
	s.NoError(s.env.GetWorkflowError())
	var p review.Packet
	s.NoError(s.env.GetWorkflowResult(&p))
	return p
}

func (s *ReviewSuite) TestApproveThenOutcome() {
	var rejected error
	var accepted bool
	s.decide(time.Hour, review.Decision{Kind: review.Approve, Actor: "dana", ConfirmedCause: "new VP cut the budget"}, &rejected, &accepted)
	s.outcome(15*24*time.Hour, review.Outcome{Kind: review.Saved, Actor: "dana", Note: "renewed"})
	s.env.ExecuteWorkflow(AccountReview, testInput())

	s.True(accepted)
	s.NoError(rejected)
	p := s.result()
	s.Equal(review.Closed, p.State)
	s.Equal("new VP cut the budget", p.Decision.ConfirmedCause)
	s.Equal("adoption stalled after the champion left (suspected)", p.Draft.SuspectedCause, "the suspected cause stays apart from the confirmed one")
	s.Require().NotNil(p.Action)
	s.Equal("dana", p.Action.Owner)
	s.Equal(review.Saved, p.Outcome.Kind)
	s.Empty(p.Missing(s.env.Now()), "an approved, followed-up packet is complete")
	s.Equal([]review.EventKind{review.EventFlagged, review.EventDrafted, review.EventReviewed, review.EventRiskConfirmed, review.EventActionAssigned, review.EventSaved}, s.acts.eventKinds())
	s.Equal("offline", p.Draft.Drafter, "no LLM queue: drafted offline")
}

func (s *ReviewSuite) TestEditAndApproveUsesTheEditedOutreach() {
	var rejected error
	var accepted bool
	edited := review.Email{Language: "en", Subject: "Edited", Body: "Dear Ana, shall we review the rollout goal on Tuesday?"}
	s.decide(time.Hour, review.Decision{Kind: review.EditAndApprove, Actor: "dana", EditedOutreach: &edited}, &rejected, &accepted)
	s.outcome(2*24*time.Hour, review.Outcome{Kind: review.Churned, Actor: "dana"})
	s.env.ExecuteWorkflow(AccountReview, testInput())
	p := s.result()
	s.Equal(edited, p.Action.Outreach)
	s.Equal(review.Churned, p.Outcome.Kind)
}

func (s *ReviewSuite) TestRejectionIsACandidateFalsePositive() {
	var rejected error
	var accepted bool
	s.decide(time.Hour, review.Decision{Kind: review.Reject, Actor: "dana", Reason: "seasonal: their fiscal year closed"}, &rejected, &accepted)
	s.env.ExecuteWorkflow(AccountReview, testInput())
	s.True(accepted)
	p := s.result()
	s.Equal(review.Rejected, p.State)
	s.Nil(p.Action)
	kinds := s.acts.eventKinds()
	s.Contains(kinds, review.EventRiskRejected)
	s.NotContains(kinds, review.EventActionAssigned)
	for _, e := range s.acts.events {
		if e.Kind == review.EventRiskRejected {
			s.Contains(e.Detail, "candidate false positive")
		}
	}
}

func (s *ReviewSuite) TestLateDecisionIsRemindedThenEscalatedNeverAutoApproved() {
	var rejected error
	var accepted bool
	// 48h SLA, then 24h grace: reminder at 48h, escalation to the manager
	// at 72h, to the leaders at 96h, another reminder at 120h; the owner
	// decides at 130h.
	s.decide(130*time.Hour, review.Decision{Kind: review.Reject, Actor: "dana", Reason: "duplicate of an open escalation"}, &rejected, &accepted)
	s.env.ExecuteWorkflow(AccountReview, testInput())
	p := s.result()
	s.Equal(review.Rejected, p.State, "the decision is the CSM's, taken at 130h")
	s.Equal(3, p.Escalation.Level)
	s.Equal("maria", p.Escalation.EscalatedTo)
	s.Equal([]string{"cs-lead"}, p.Escalation.Leaders)
	s.Require().NotNil(p.Escalation.LeadersAt)
	s.InDelta((96 * time.Hour).Hours(), p.Escalation.LeadersAt.Sub(s.acts.start).Hours(), 1)

	reminders, escalations := s.notices()
	s.Require().Len(escalations, 2)
	s.Equal("maria", escalations[0].To)
	s.InDelta((72 * time.Hour).Hours(), escalations[0].after.Hours(), 1)
	s.Equal("cs-lead", escalations[1].To, "the leader named in the path is told")
	s.InDelta((96 * time.Hour).Hours(), escalations[1].after.Hours(), 1, "one grace period after the manager")
	s.Require().GreaterOrEqual(len(reminders), 2)
	s.Equal("dana", reminders[0].To)
	s.InDelta((48 * time.Hour).Hours(), reminders[0].after.Hours(), 1)

	var saved bool
	for _, sp := range s.acts.packets {
		saved = saved || (sp.Escalation.Level == 3 && sp.Decision == nil)
	}
	s.True(saved, "the leaders' escalation is saved with the packet before the decision")
}

func (s *ReviewSuite) TestDecisionBeforeTheLeadersNotifiesNoLeader() {
	var rejected error
	var accepted bool
	// Escalated to the manager at 72h; decided at 90h, before the leaders
	// are due at 96h.
	s.decide(90*time.Hour, review.Decision{Kind: review.Approve, Actor: "maria", ConfirmedCause: "budget cut"}, &rejected, &accepted)
	s.outcome(110*time.Hour, review.Outcome{Kind: review.Saved, Actor: "dana"})
	s.env.ExecuteWorkflow(AccountReview, testInput())
	p := s.result()
	s.Equal(2, p.Escalation.Level)
	s.Empty(p.Escalation.Leaders)
	_, escalations := s.notices()
	s.Require().Len(escalations, 1)
	s.Equal("maria", escalations[0].To)
	for _, n := range s.acts.notices {
		s.NotEqual("cs-lead", n.To, "no leader is told of a review decided in time")
	}
}

// notices splits the notices sent into reminders and escalations.
func (s *ReviewSuite) notices() (reminders, escalations []notice) {
	s.acts.mu.Lock()
	defer s.acts.mu.Unlock()
	for _, n := range s.acts.notices {
		switch n.Kind {
		case review.EventReminded:
			reminders = append(reminders, n)
		case review.EventEscalated:
			escalations = append(escalations, n)
		}
	}
	return reminders, escalations
}

func (s *ReviewSuite) TestValidatorRefusesWhatTheGateMustNotTake() {
	cases := []struct {
		name string
		d    review.Decision
		want string
	}{
		{"non-owner", review.Decision{Kind: review.Approve, Actor: "marco"}, "may not decide"},
		{"unknown decision", review.Decision{Kind: "maybe", Actor: "dana"}, "unknown decision"},
		{"empty edit", review.Decision{Kind: review.EditAndApprove, Actor: "dana", EditedOutreach: &review.Email{Body: "  "}}, "edited outreach"},
		{"rejection without reason", review.Decision{Kind: review.Reject, Actor: "dana"}, "needs a reason"},
	}
	errs := make([]error, len(cases))
	for i, c := range cases {
		var accepted bool
		s.decide(time.Hour+time.Duration(i)*time.Minute, c.d, &errs[i], &accepted)
	}
	// A leader may decide; a second decision after it is refused.
	var leaderErr, secondErr error
	var leaderOK, secondOK bool
	s.decide(2*time.Hour, review.Decision{Kind: review.Approve, Actor: "cs-lead"}, &leaderErr, &leaderOK)
	s.decide(3*time.Hour, review.Decision{Kind: review.Reject, Actor: "dana", Reason: "changed my mind"}, &secondErr, &secondOK)
	s.outcome(4*time.Hour, review.Outcome{Kind: review.StillAtRisk, Actor: "dana"})
	s.env.ExecuteWorkflow(AccountReview, testInput())

	for i, c := range cases {
		s.Require().Error(errs[i], c.name)
		s.Contains(errs[i].Error(), c.want, c.name)
	}
	s.True(leaderOK)
	s.NoError(leaderErr)
	s.False(secondOK)
	s.Require().Error(secondErr)
	s.Contains(secondErr.Error(), "already decided")
	p := s.result()
	s.Equal("cs-lead", p.Decision.Actor)
	s.Equal(review.Closed, p.State)
}

func (s *ReviewSuite) TestDecisionSignalOfTheSameShape() {
	s.env.RegisterDelayedCallback(func() {
		// Refused quietly: not the owner.
		s.env.SignalWorkflow(SignalDecide, review.Decision{Kind: review.Approve, Actor: "marco"})
	}, time.Hour)
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(SignalDecide, review.Decision{Kind: review.Reject, Actor: "dana", Reason: "known outage, resolved"})
	}, 2*time.Hour)
	s.env.ExecuteWorkflow(AccountReview, testInput())
	p := s.result()
	s.Equal(review.Rejected, p.State)
	s.Equal("dana", p.Decision.Actor)
}

func (s *ReviewSuite) TestLLMFailureFallsBackToOfflineWithANote() {
	s.acts.llmErr = temporal.NewNonRetryableApplicationError("401 invalid api key", ErrPermanentLLM, errors.New("401"))
	in := testInput()
	in.Policy.LLMTaskQueue = "churnwatch-llm"
	var rejected error
	var accepted bool
	s.decide(time.Hour, review.Decision{Kind: review.Reject, Actor: "dana", Reason: "test"}, &rejected, &accepted)
	s.env.ExecuteWorkflow(AccountReview, in)
	p := s.result()
	s.Equal(1, s.acts.llmCalls, "a permanent LLM error is not retried")
	s.Equal("offline", p.Draft.Drafter)
	s.Require().NotEmpty(p.Draft.Notes)
	s.True(strings.Contains(p.Draft.Notes[0], "LLM drafter failed"), p.Draft.Notes[0])
}

func (s *ReviewSuite) TestQueriesShowTheGate() {
	s.env.RegisterDelayedCallback(func() {
		v, err := s.env.QueryWorkflow(QueryState)
		s.NoError(err)
		var st review.State
		s.NoError(v.Get(&st))
		s.Equal(review.AwaitingApproval, st)
		v, err = s.env.QueryWorkflow(QueryPacket)
		s.NoError(err)
		var p review.Packet
		s.NoError(v.Get(&p))
		s.NotNil(p.Draft)
		s.Equal([]string{"decision", "follow_up_date"}, p.Missing(s.env.Now()))
		s.env.SignalWorkflow(SignalDecide, review.Decision{Kind: review.Reject, Actor: "dana", Reason: "r"})
	}, time.Hour)
	s.env.ExecuteWorkflow(AccountReview, testInput())
	s.Equal(review.Rejected, s.result().State)
}

// quietLogger keeps the test output to warnings and errors.
var quietLogger = sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))

func workflowRegisterOptions(name string) workflow.RegisterOptions {
	return workflow.RegisterOptions{Name: name}
}

// An activity result over the payload limit is not retried for ever: the
// review says so on its packet and to its owner, and ends.
func (s *ReviewSuite) TestEvidenceTooLargeIsRefusedVisibly() {
	calls := 0
	s.env.OnActivity(ActGatherEvidence, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in EvidenceRequest) (Evidence, error) {
			calls++
			// What the SDK reports for a result over the namespace's limit.
			return Evidence{}, temporal.NewApplicationError("[TMPRL1103] Attempted to upload payloads with size that exceeded the error limit.", ErrPayloadTooLarge)
		})
	s.env.ExecuteWorkflow(AccountReview, testInput())

	s.True(s.env.IsWorkflowCompleted())
	err := s.env.GetWorkflowError()
	s.Require().Error(err)
	s.Contains(err.Error(), "evidence too large to carry")
	s.Equal(1, calls, "a payload over the limit is not retried")
	s.Require().NotEmpty(s.acts.packets, "the packet is saved, so the review's page shows why")
	p := s.acts.packets[len(s.acts.packets)-1]
	s.Equal(review.Drafting, p.State)
	s.Nil(p.Draft)
	s.Contains(p.Failure, "evidence too large to carry: [TMPRL1103]")
	s.Require().Len(s.acts.notices, 1)
	s.Equal("dana", s.acts.notices[0].To)
	s.Contains(s.acts.notices[0].Message, "cannot go on")
}

// historyFullAt lowers historyBound and, at the given time, makes the test
// environment report a history past it: what a long wait does to a real
// history (the test environment counts no events of its own). Anything in
// also happens in the same workflow task.
func (s *ReviewSuite) historyFullAt(at time.Duration, also ...func()) {
	bound := historyBound
	historyBound = 50
	s.T().Cleanup(func() { historyBound = bound })
	env := s.env
	env.RegisterDelayedCallback(func() {
		for _, f := range also {
			f()
		}
		env.SetCurrentHistoryLength(historyBound + 1)
	}, at)
}

// continuedAsNew checks that the run continued as new and returns the
// input of the next run.
func (s *ReviewSuite) continuedAsNew() ReviewInput {
	s.Require().True(s.env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	s.Require().True(errors.As(s.env.GetWorkflowError(), &can), "want a continue-as-new, got %v", s.env.GetWorkflowError())
	s.Equal(ReviewWorkflow, can.WorkflowType.Name)
	var in ReviewInput
	s.Require().NoError(converter.GetDefaultDataConverter().FromPayloads(can.Input, &in))
	s.Require().NotNil(in.Resume)
	return in
}

// eventKey is the key of the recorded event of kind (the last one).
func (s *ReviewSuite) eventKey(kind review.EventKind) string {
	s.acts.mu.Lock()
	defer s.acts.mu.Unlock()
	var key string
	for _, e := range s.acts.events {
		if e.Kind == kind {
			key = e.Key
		}
	}
	return key
}

// An undecided review continues as new before its history grows long, and
// the next run, decided, goes on as if it had never stopped: the packet,
// the reminders, the escalation level and the event counters carried.
func (s *ReviewSuite) TestUndecidedReviewContinuesAsNewAndIsDecidedThere() {
	// Reminded at 48h, escalated to the manager at 72h and the leaders at
	// 96h; the history passes the bound at 100h, 20h before the next reminder.
	s.historyFullAt(100 * time.Hour)
	s.env.ExecuteWorkflow(AccountReview, testInput())
	in := s.continuedAsNew()
	res := in.Resume
	s.Equal(testInput().ReviewID, in.ReviewID)
	s.Equal(review.AwaitingApproval, res.Packet.State)
	s.Require().NotNil(res.Packet.Draft)
	s.Nil(res.Packet.Decision)
	s.Equal(3, res.Packet.Escalation.Level)
	s.Equal("maria", res.Packet.Escalation.EscalatedTo)
	s.Equal([]string{"cs-lead"}, res.Packet.Escalation.Leaders)
	s.Require().Len(res.Packet.Escalation.RemindedAt, 1)
	s.InDelta(20, res.Wait.Hours(), 0.01, "what is left of the grace period")
	s.Equal(map[review.EventKind]int{review.EventFlagged: 1, review.EventDrafted: 1, review.EventReminded: 1, review.EventEscalated: 2}, res.Seq)

	first := res.Packet
	s.SetupTest()
	var rejected error
	var accepted bool
	s.decide(30*time.Hour, review.Decision{Kind: review.Approve, Actor: "dana", ConfirmedCause: "budget cut"}, &rejected, &accepted)
	s.outcome(40*time.Hour, review.Outcome{Kind: review.Saved, Actor: "dana"})
	s.env.ExecuteWorkflow(AccountReview, in)
	s.True(accepted)
	s.NoError(rejected)
	p := s.result()
	s.Equal(review.Closed, p.State)
	s.Equal(first.Escalation, p.Escalation, "the reminders and escalation are kept")
	s.Equal(first.Draft, p.Draft)
	s.Equal(first.CreatedAt, p.CreatedAt)
	s.Equal([]review.EventKind{review.EventReminded, review.EventReviewed, review.EventRiskConfirmed, review.EventActionAssigned, review.EventSaved}, s.acts.eventKinds(), "no second gathering or drafting")
	s.True(strings.HasSuffix(s.eventKey(review.EventReminded), "#reminded#2"), s.eventKey(review.EventReminded))

	reminders, escalations := s.notices()
	s.Empty(escalations, "the leaders are not told twice")
	s.Require().Len(reminders, 2, "the owner and the manager, when the grace period ends")
	s.InDelta(20, reminders[0].after.Hours(), 0.01)
	var assigned bool
	for _, sp := range s.acts.packets {
		assigned = assigned || (sp.State == review.ActionAssigned && sp.Escalation.Level == 3 && len(sp.Escalation.RemindedAt) == 1)
	}
	s.True(assigned, "the resumed review reaches action_assigned with its escalation")
}

// A decision signalled as the history passes the bound is taken, not lost
// in the switch to a new run.
func (s *ReviewSuite) TestDecisionSignalDuringTheSwitchIsTaken() {
	env := s.env
	env.RegisterDelayedCallback(func() {
		// Buffered, with no workflow task of its own: the next task sees
		// the signal and the full history at once.
		env.SignalWorkflowSkippingWorkflowTask(SignalDecide, review.Decision{Kind: review.Reject, Actor: "dana", Reason: "duplicate"})
	}, 99*time.Hour)
	s.historyFullAt(100 * time.Hour)
	s.env.ExecuteWorkflow(AccountReview, testInput())
	p := s.result()
	s.Equal(review.Rejected, p.State)
	s.Require().NotNil(p.Decision)
	s.Equal("dana", p.Decision.Actor)
}

// A review whose outcome is long missing continues as new too, and is
// closed in the next run.
func (s *ReviewSuite) TestMissingOutcomeContinuesAsNewAndIsRecordedThere() {
	var rejected error
	var accepted bool
	s.decide(time.Hour, review.Decision{Kind: review.Approve, Actor: "dana"}, &rejected, &accepted)
	// Follow-up date at 337h (14 days after approval), reminded at 409h;
	// the history passes the bound at 420h, 61h before the next reminder.
	s.historyFullAt(420 * time.Hour)
	s.env.ExecuteWorkflow(AccountReview, testInput())
	in := s.continuedAsNew()
	first := in.Resume.Packet
	s.Equal(review.AwaitingOutcome, first.State)
	s.Require().NotNil(first.Action)
	s.Require().NotNil(first.Decision)
	s.Len(first.Escalation.RemindedAt, 1)
	s.InDelta(61, in.Resume.Wait.Hours(), 0.01)

	s.SetupTest()
	s.outcome(70*time.Hour, review.Outcome{Kind: review.StillAtRisk, Actor: "dana"})
	s.env.ExecuteWorkflow(AccountReview, in)
	p := s.result()
	s.Equal(review.Closed, p.State)
	s.Equal(review.StillAtRisk, p.Outcome.Kind)
	s.Equal(first.Decision, p.Decision)
	s.Equal(first.Action, p.Action)
	s.Equal(first.FollowUpDate, p.FollowUpDate)
	s.Len(p.Escalation.RemindedAt, 2, "the earlier reminder and the one at 61h")
	s.Equal([]review.EventKind{review.EventReminded, review.EventStillAtRisk}, s.acts.eventKinds())
	s.True(strings.HasSuffix(s.eventKey(review.EventReminded), "#reminded#2"), s.eventKey(review.EventReminded))
	reminders, _ := s.notices()
	s.Require().Len(reminders, 1, "no second follow-up notice")
	s.InDelta(61, reminders[0].after.Hours(), 0.01)
}

// Reviews recorded before the continue-as-new replay as they ran, however
// long their history: the bound below their length changes nothing.
func TestRecordedReviewsReplayPastTheHistoryBound(t *testing.T) {
	bound := historyBound
	historyBound = 10
	t.Cleanup(func() { historyBound = bound })
	for _, f := range []string{"testdata/review_escalated.json", "testdata/review_progress_outcome.json"} {
		r := worker.NewWorkflowReplayer()
		r.RegisterWorkflowWithOptions(AccountReview, workflowRegisterOptions(ReviewWorkflow))
		if err := r.ReplayWorkflowHistoryFromJSONFile(quietLogger, f); err != nil {
			t.Errorf("replay %s: %v", f, err)
		}
	}
}
