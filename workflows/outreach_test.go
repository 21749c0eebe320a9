package workflows

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/churnwatch/churnwatch/review"
)

// outreachFake stands in for SendOutreach: it records each request, when
// it came on the test clock, and answers with err when set.
type outreachFake struct {
	mu    sync.Mutex
	calls []OutreachRequest
	at    []time.Duration
	err   error
}

func (s *ReviewSuite) fakeSendOutreach(err error) *outreachFake {
	f := &outreachFake{err: err}
	s.env.RegisterActivityWithOptions(func(ctx context.Context, in OutreachRequest) (OutreachResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.calls = append(f.calls, in)
		f.at = append(f.at, s.env.Now().Sub(s.acts.start))
		if f.err != nil {
			return OutreachResult{}, f.err
		}
		return OutreachResult{To: in.To, MessageID: "<m1@example.com>"}, nil
	}, activity.RegisterOptions{Name: ActSendOutreach})
	return f
}

func outreachInput() ReviewInput {
	in := testInput()
	in.Policy.SendOutreach = true
	return in
}

func (s *ReviewSuite) eventsOf(kind review.EventKind) []review.Event {
	var out []review.Event
	for _, e := range s.acts.events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func (s *ReviewSuite) noticesOf(kind review.EventKind) []notice {
	var out []notice
	for _, n := range s.acts.notices {
		if n.Kind == kind {
			out = append(out, n)
		}
	}
	return out
}

// TestOutreachSentOnceAfterApproval: the outreach goes out once, after the
// approval, as edited, to the recipient the decision names, and the review
// records outreach_sent by churnwatch by itself.
func (s *ReviewSuite) TestOutreachSentOnceAfterApproval() {
	sent := s.fakeSendOutreach(nil)
	edited := review.Email{Language: "en", Subject: "Edited", Body: "Dear Ana, shall we review the rollout goal on Tuesday?"}
	var rejected error
	var accepted bool
	s.decide(5*time.Hour, review.Decision{Kind: review.EditAndApprove, Actor: "dana", EditedOutreach: &edited, OutreachTo: "Ana <ana@northwind.example>"}, &rejected, &accepted)
	s.outcome(15*24*time.Hour, review.Outcome{Kind: review.Saved, Actor: "dana"})
	s.env.ExecuteWorkflow(AccountReview, outreachInput())

	p := s.result()
	s.Require().Len(sent.calls, 1)
	s.GreaterOrEqual(sent.at[0], 5*time.Hour, "nothing is sent before the approval")
	s.Equal(OutreachRequest{ReviewID: p.ReviewID, AccountID: "A-1", AccountName: "Northwind", Approver: "dana", To: "Ana <ana@northwind.example>", Email: edited}, sent.calls[0])
	s.Require().NotNil(p.Action.Sent)
	s.Equal("<m1@example.com>", p.Action.Sent.MessageID)
	ev := s.eventsOf(review.EventOutreachSent)
	s.Require().Len(ev, 1)
	s.Equal("churnwatch", ev[0].Actor)
	s.Equal("to Ana <ana@northwind.example>, Message-ID <m1@example.com>", ev[0].Detail)
	s.Empty(s.eventsOf(review.EventOutreachFailed))
	s.Contains(s.noticesOf(review.EventActionAssigned)[0].Message, "Churnwatch sends the approved outreach to Ana <ana@northwind.example> as dana.")
	s.Equal(review.Closed, p.State)
}

// TestOutreachNotSent: a rejection, "I will send it myself", a policy that
// does not send, and an approval without a recipient send nothing.
func (s *ReviewSuite) TestOutreachNotSent() {
	to := "ana@northwind.example"
	cases := []struct {
		name string
		off  bool
		d    review.Decision
	}{
		{"rejected", false, review.Decision{Kind: review.Reject, Actor: "dana", Reason: "seasonal", OutreachTo: to}},
		{"send myself", false, review.Decision{Kind: review.Approve, Actor: "dana", OutreachTo: to, SendMyself: true}},
		{"policy off", true, review.Decision{Kind: review.Approve, Actor: "dana", OutreachTo: to}},
		{"no recipient", false, review.Decision{Kind: review.Approve, Actor: "dana"}},
	}
	for _, c := range cases {
		s.SetupTest()
		sent := s.fakeSendOutreach(nil)
		in := outreachInput()
		in.Policy.SendOutreach = !c.off
		var rejected error
		var accepted bool
		s.decide(time.Hour, c.d, &rejected, &accepted)
		s.outcome(2*24*time.Hour, review.Outcome{Kind: review.Saved, Actor: "dana"})
		s.env.ExecuteWorkflow(AccountReview, in)
		s.True(s.env.IsWorkflowCompleted(), c.name)
		s.NoError(s.env.GetWorkflowError(), c.name)
		s.Empty(sent.calls, c.name)
		s.Empty(s.eventsOf(review.EventOutreachSent), c.name)
		if c.d.Kind != review.Reject {
			s.Contains(s.noticesOf(review.EventActionAssigned)[0].Message, "The approved outreach is yours to send.", c.name)
		}
	}
}

// TestOutreachFailures: a send that fails for good is recorded and told to
// the owner, and the review goes on to its outcome. A refusal is tried
// once, other errors a bounded number of times; delivery unknown says to
// check before sending.
func (s *ReviewSuite) TestOutreachFailures() {
	cases := []struct {
		name  string
		err   error
		tries int
		want  string
	}{
		{"refused", temporal.NewNonRetryableApplicationError("mail server refused: 550 no such user", ErrOutreachRefused, nil), 1,
			"the approved outreach could not be sent: mail server refused: 550 no such user; send it yourself"},
		{"server down", errors.New("connect: connection refused"), 5,
			"the approved outreach could not be sent: connect: connection refused; send it yourself"},
		{"crash", temporal.NewNonRetryableApplicationError("delivery unknown after a crash: an attempt claimed the send", ErrOutreachUnknown, nil), 1,
			"the approved outreach: delivery unknown after a crash: an attempt claimed the send; check your sent mail"},
	}
	for _, c := range cases {
		s.SetupTest()
		sent := s.fakeSendOutreach(c.err)
		var rejected error
		var accepted bool
		s.decide(time.Hour, review.Decision{Kind: review.Approve, Actor: "dana", OutreachTo: "ana@northwind.example"}, &rejected, &accepted)
		s.outcome(2*24*time.Hour, review.Outcome{Kind: review.StillAtRisk, Actor: "dana"})
		s.env.ExecuteWorkflow(AccountReview, outreachInput())
		p := s.result()
		s.Equal(review.Closed, p.State, c.name)
		s.Nil(p.Action.Sent, c.name)
		s.Len(sent.calls, c.tries, c.name)
		s.Empty(s.eventsOf(review.EventOutreachSent), c.name)
		failed := s.eventsOf(review.EventOutreachFailed)
		if s.Len(failed, 1, c.name) {
			s.Equal("churnwatch", failed[0].Actor)
			s.True(strings.HasPrefix(failed[0].Detail, "to ana@northwind.example: "+c.want), "%s: %s", c.name, failed[0].Detail)
		}
		told := s.noticesOf(review.EventOutreachFailed)
		if s.Len(told, 1, c.name) {
			s.Equal("dana", told[0].To)
			s.Contains(told[0].Message, c.want, c.name)
		}
	}
}
