package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/churnwatch/churnwatch/decision"
	"github.com/churnwatch/churnwatch/identity"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/summary"
)

func (s *Server) registerPages(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.requireUser(s.inbox))
	mux.HandleFunc("GET /review/{account}/{cycle}", s.requireUser(s.packet))
	mux.HandleFunc("POST /review/{account}/{cycle}/decision", s.requireUser(s.decide))
	mux.HandleFunc("POST /review/{account}/{cycle}/progress", s.requireUser(s.progress))
	mux.HandleFunc("POST /review/{account}/{cycle}/outcome", s.requireUser(s.outcome))
	mux.HandleFunc("GET /summary", s.requireUser(s.summary))
	mux.HandleFunc("GET /dashboard", s.requireUser(s.dashboard))
	mux.HandleFunc("GET /dashboard.csv", s.requireUser(s.dashboardCSV))
}

// openStates are the states that wait on a person's decision.
var openStates = decision.OpenStates

// Segments are ARR bands: the snapshots carry no segment of their own, and
// a team's segments follow contract value.
var Segments = []struct {
	Name     string
	Min, Max float64
}{
	{"enterprise", 100_000, 0},
	{"mid_market", 25_000, 100_000},
	{"smb", 0, 25_000},
}

// pageSize is how many reviews one inbox page lists.
const pageSize = 50

// scope is the owners whose reviews u sees and may decide (see
// decision.Service.Scope: the daily digest lists by the same rule).
func (s *Server) scope(ctx context.Context, u identity.User) ([]string, error) {
	return s.Decisions.Scope(ctx, u)
}

// overdue counts the open reviews in u's scope whose decision is overdue.
func (s *Server) overdue(ctx context.Context, u identity.User) int {
	owners, err := s.scope(ctx, u)
	if err != nil {
		return 0
	}
	_, n, err := s.Store.Queue(ctx, store.QueueFilter{Owners: owners, States: openStates, DueBefore: time.Now(), Limit: 1})
	if err != nil {
		s.logger().Warn("count overdue reviews", "error", err)
	}
	return n
}

type inboxData struct {
	Rows       []store.QueueRow
	Total      int
	Page, Last int
	Query      url.Values // the filters, for the paging links
	Prev, Next url.Values
	Filter     struct{ State, Owner, Tier, Segment string }
	States     []review.State
	Tiers      []risk.Tier
	Segments   []string
	Mine       bool // the list is the user's own queue
}

// inbox lists the reviews in the user's scope, most urgent first (risk
// weighed with ARR, renewal and strategic weight), paged.
func (s *Server) inbox(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	q := r.URL.Query()
	var d inboxData
	d.Filter.State, d.Filter.Owner, d.Filter.Tier, d.Filter.Segment = q.Get("state"), q.Get("owner"), q.Get("tier"), q.Get("segment")
	d.States, d.Tiers = review.States, []risk.Tier{risk.Critical, risk.Elevated, risk.Watch, risk.Healthy, risk.InsufficientEvidence}
	for _, seg := range Segments {
		d.Segments = append(d.Segments, seg.Name)
	}
	f, err := s.queueFilter(r.Context(), u, q)
	if err != nil {
		s.problem(w, r, decision.StatusOf(err), err.Error())
		return
	}
	d.Page = max(1, atoi(q.Get("page")))
	f.Limit, f.Offset = pageSize, (d.Page-1)*pageSize
	if d.Rows, d.Total, err = s.Store.Queue(r.Context(), f); err != nil {
		s.fail(w, r, err)
		return
	}
	d.Last = max(1, (d.Total+pageSize-1)/pageSize)
	d.Mine = len(f.Owners) == 1 && f.Owners[0] == u.Name
	d.Query = url.Values{}
	for _, k := range []string{"state", "owner", "tier", "segment"} {
		if v := q.Get(k); v != "" {
			d.Query.Set(k, v)
		}
	}
	if d.Page > 1 {
		d.Prev = withPage(d.Query, d.Page-1)
	}
	if d.Page < d.Last {
		d.Next = withPage(d.Query, d.Page+1)
	}
	s.render(w, r, http.StatusOK, "inbox.html", "Inbox", d)
}

// queueFilter reads the inbox's filters, within u's scope.
func (s *Server) queueFilter(ctx context.Context, u identity.User, q url.Values) (store.QueueFilter, error) {
	var f store.QueueFilter
	owners, err := s.scope(ctx, u)
	if err != nil {
		return f, err
	}
	f.Owners = owners
	if owner := q.Get("owner"); owner != "" {
		if owners != nil && !slices.Contains(owners, owner) {
			return f, &decision.Error{Status: http.StatusForbidden, Msg: u.Name + " may not see the reviews of " + owner}
		}
		f.Owners = []string{owner}
	}
	switch state := q.Get("state"); state {
	case "", "open":
		f.States = openStates
	case "all":
	default:
		if !slices.Contains(review.States, review.State(state)) {
			return f, &decision.Error{Status: http.StatusUnprocessableEntity, Msg: "state " + strconv.Quote(state) + " is not a review state"}
		}
		f.States = []review.State{review.State(state)}
	}
	if tier := q.Get("tier"); tier != "" {
		f.Tiers = []risk.Tier{risk.Tier(tier)}
	}
	if seg := q.Get("segment"); seg != "" {
		i := slices.IndexFunc(Segments, func(s struct {
			Name     string
			Min, Max float64
		}) bool {
			return s.Name == seg
		})
		if i < 0 {
			return f, &decision.Error{Status: http.StatusUnprocessableEntity, Msg: "segment " + strconv.Quote(seg) + " is not enterprise, mid_market or smb"}
		}
		f.MinARR, f.MaxARR = Segments[i].Min, Segments[i].Max
	}
	return f, nil
}

func withPage(q url.Values, page int) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = v
	}
	out.Set("page", strconv.Itoa(page))
	return out
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

type packetData struct {
	P          review.Packet
	Missing    []string
	CanDecide  bool
	Drafting   bool
	DecisionID string // the update ID of this form: a double submit decides once
	Timeline   []review.Event
	Progress   []review.EventKind
	Outcomes   []review.OutcomeKind
	CanFollow  bool // progress and the outcome may be recorded
	// SendOutreach: the form asks for the outreach's recipient (prefilled
	// with the account's contact_email) and offers "I will send it myself".
	SendOutreach bool
}

// packet shows a review: the decision box first, then the evidence (each
// signal's series drawn), the brief, the suspected cause, the save plan and
// the outreach draft, and what happened since.
func (s *Server) packet(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	p, err := s.Decisions.Packet(r.Context(), u, reviewID(r))
	if err != nil {
		s.refusal(w, r, err)
		return
	}
	events, err := s.Store.Events(r.Context(), store.EventFilter{ReviewID: p.ReviewID, Kinds: []review.EventKind{
		review.EventFlagged, review.EventReminded, review.EventEscalated, review.EventReviewed, review.EventActionAssigned,
		review.EventOutreachSent, review.EventOutreachFailed, review.EventCustomerResponded, review.EventSaved, review.EventChurned, review.EventStillAtRisk, review.EventFalsePositive,
	}})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := packetData{
		P:          p,
		Missing:    p.Missing(time.Now()),
		Drafting:   p.State == review.Drafting || p.Draft == nil,
		DecisionID: uuid.NewString(),
		Timeline:   events,
		Progress:   progressLeft(events),
		Outcomes:   []review.OutcomeKind{review.Saved, review.Churned, review.StillAtRisk, review.FalsePositive},
		CanFollow:  p.Outcome == nil && (p.State == review.ActionAssigned || p.State == review.AwaitingOutcome),

		SendOutreach: s.Config.SendOutreach,
	}
	d.CanDecide = !d.Drafting && p.Decision == nil && p.State == review.AwaitingApproval
	s.render(w, r, http.StatusOK, "packet.html", p.AccountName+" · "+p.Cycle, d)
}

// progressLeft is the progress a person may still record: outreach_sent
// once (Churnwatch records it itself when it sends the approved email), and
// customer_responded as often as the customer answers.
func progressLeft(events []review.Event) []review.EventKind {
	for _, e := range events {
		if e.Kind == review.EventOutreachSent {
			return []review.EventKind{review.EventCustomerResponded}
		}
	}
	return []review.EventKind{review.EventOutreachSent, review.EventCustomerResponded}
}

// refusal answers a page request the decision service refused.
func (s *Server) refusal(w http.ResponseWriter, r *http.Request, err error) {
	status := decision.StatusOf(err)
	if status >= 500 && !decision.Explained(err) {
		s.fail(w, r, err)
		return
	}
	s.problem(w, r, status, err.Error())
}

// decide takes form#decision: approve (with the outreach as edited, a
// confirmed cause, and where Churnwatch sends the outreach) or reject with a
// reason, as the signed-in user.
func (s *Server) decide(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, func(ctx context.Context, u identity.User, id string, f url.Values) error {
		req := decision.Request{Decision: f.Get("decision"), Cause: f.Get("cause"), Reason: f.Get("reason"), Note: f.Get("note"),
			OutreachTo: f.Get("outreach_to"), SendMyself: f.Get("send_myself") != ""}
		if f.Has("outreach_subject") || f.Has("outreach_body") {
			req.Outreach = &review.Email{Subject: f.Get("outreach_subject"), Body: f.Get("outreach_body")}
		}
		_, err := s.Decisions.Decide(ctx, u, id, req, f.Get("decision_id"))
		return err
	})
}

// progress takes form#progress: outreach_sent or customer_responded.
func (s *Server) progress(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, func(ctx context.Context, u identity.User, id string, f url.Values) error {
		_, err := s.Decisions.Progress(ctx, u, id, f.Get("event"), f.Get("note"), f.Get("decision_id"))
		return err
	})
}

// outcome takes form#outcome: what happened to the account.
func (s *Server) outcome(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, func(ctx context.Context, u identity.User, id string, f url.Values) error {
		_, err := s.Decisions.Outcome(ctx, u, id, f.Get("result"), f.Get("note"), f.Get("decision_id"))
		return err
	})
}

// act runs one of the review's forms as the signed-in user and sends the
// browser back to the review, or answers the refusal.
func (s *Server) act(w http.ResponseWriter, r *http.Request, do func(ctx context.Context, u identity.User, id string, f url.Values) error) {
	u, _ := userFrom(r.Context())
	id := reviewID(r)
	if err := do(r.Context(), u, id, r.PostForm); err != nil {
		s.refusal(w, r, err)
		return
	}
	http.Redirect(w, r, review.PagePath(id), http.StatusSeeOther)
}

// summary shows the leadership summary of ?week= (default the latest
// scored week) to managers, leaders and admins.
func (s *Server) summary(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	if u.Role == identity.CSM {
		s.problem(w, r, http.StatusForbidden, "The leadership summary is for managers and leaders.")
		return
	}
	sum, err := summary.Build(r.Context(), s.Store, r.URL.Query().Get("week"))
	if errors.Is(err, summary.ErrNoScores) {
		s.problem(w, r, http.StatusNotFound, "Nothing scored yet for that week: run `starter scan` first.")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "summary.html", "Leadership summary", sum)
}
