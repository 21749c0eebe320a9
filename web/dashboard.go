package web

import (
	"context"
	"errors"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"

	"github.com/churnwatch/churnwatch/chart"
	"github.com/churnwatch/churnwatch/identity"
	"github.com/churnwatch/churnwatch/summary"
)

// trends builds the dashboard's figures for u: a manager's team, or the
// whole book for leaders and admins. CSMs have their inbox instead.
func (s *Server) trends(w http.ResponseWriter, r *http.Request) (summary.Trends, bool) {
	u, _ := userFrom(r.Context())
	if u.Role == identity.CSM && !slices.Contains(s.Decisions.Leaders, u.Name) {
		s.problem(w, r, http.StatusForbidden, "The dashboard is for managers and leaders; your queue is the inbox.")
		return summary.Trends{}, false
	}
	owners, err := s.scope(r.Context(), u)
	if err != nil {
		s.fail(w, r, err)
		return summary.Trends{}, false
	}
	teams, err := s.teams(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return summary.Trends{}, false
	}
	q := r.URL.Query()
	t, err := summary.BuildTrends(r.Context(), s.Store, summary.TrendQuery{
		Through: q.Get("week"),
		Weeks:   min(atoi(q.Get("weeks")), summary.MaxTrendWeeks),
		Owners:  owners,
		TeamOf:  func(owner string) string { return teams[owner] },
	})
	if errors.Is(err, summary.ErrNoScores) {
		s.problem(w, r, http.StatusNotFound, "Nothing scored yet for that week: run `starter scan` first.")
		return t, false
	}
	if err != nil {
		s.fail(w, r, err)
		return t, false
	}
	return t, true
}

// teams maps each owner to their manager: the user record's, else the
// config's review.managers.
func (s *Server) teams(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	for owner, manager := range s.Decisions.Managers {
		out[owner] = manager
	}
	users, err := s.Store.Users(ctx)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if u.Manager != "" {
			out[u.Name] = u.Manager
		}
	}
	return out, nil
}

type dashboardData struct {
	T      summary.Trends
	Query  url.Values
	Charts []dashChart
	Latest *summary.WeekTrend
}

type dashChart struct {
	Title string
	SVG   template.HTML
}

// dashboard shows how the book and the team's follow-through move week by
// week; every count links to the packets behind it.
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	t, ok := s.trends(w, r)
	if !ok {
		return
	}
	if key := r.URL.Query().Get("drill"); key != "" {
		s.drill(w, r, t, key)
		return
	}
	d := dashboardData{T: t, Query: url.Values{}, Charts: dashboardCharts(t)}
	for _, k := range []string{"week", "weeks"} {
		if v := r.URL.Query().Get(k); v != "" {
			d.Query.Set(k, v)
		}
	}
	if n := len(t.Weeks); n > 0 {
		d.Latest = &t.Weeks[n-1]
	}
	s.render(w, r, http.StatusOK, "dashboard.html", "Dashboard", d)
}

func dashboardCharts(t summary.Trends) []dashChart {
	n := len(t.Weeks)
	labels := make([]string, n)
	series := func(name string, f func(summary.WeekTrend) float64) chart.Series {
		s := chart.Series{Name: name, Values: make([]float64, n)}
		for i, w := range t.Weeks {
			s.Values[i] = f(w)
		}
		return s
	}
	rate := func(v *float64) float64 {
		if v == nil {
			return math.NaN() // unknown is a gap, not 0
		}
		return 100 * *v
	}
	for i, w := range t.Weeks {
		labels[i] = w.Week
	}
	opt := func(v *float64) float64 {
		if v == nil {
			return math.NaN()
		}
		return *v
	}
	return []dashChart{
		{"ARR at risk by tier", chart.Bars([]chart.Series{
			series("critical", func(w summary.WeekTrend) float64 { return w.ARRByTier.Critical }),
			series("elevated", func(w summary.WeekTrend) float64 { return w.ARRByTier.Elevated }),
		}, labels, 560, 220)},
		{"Reviews opened and decided", chart.Lines([]chart.Series{
			series("opened", func(w summary.WeekTrend) float64 { return float64(w.ReviewsOpened) }),
			series("decided", func(w summary.WeekTrend) float64 { return float64(w.ReviewsDecided) }),
		}, labels, 560, 220)},
		{"Median hours to decision", chart.Lines([]chart.Series{
			series("hours", func(w summary.WeekTrend) float64 { return opt(w.MedianHoursToDecision) }),
		}, labels, 560, 220)},
		{"Median days from flag to approved outreach", chart.Lines([]chart.Series{
			series("days", func(w summary.WeekTrend) float64 { return opt(w.MedianDaysFlagToOutreach) }),
		}, labels, 560, 220)},
		{"Save rate (%): outreach within 14 days vs later", chart.Lines([]chart.Series{
			series("within 14 days", func(w summary.WeekTrend) float64 { return rate(w.SavedWithinWindow.Rate) }),
			series("later", func(w summary.WeekTrend) float64 { return rate(w.SavedAfterWindow.Rate) }),
		}, labels, 560, 220)},
		{"False positives and packet completeness (%)", chart.Lines([]chart.Series{
			series("false-positive rate", func(w summary.WeekTrend) float64 { return rate(w.FalsePositiveRate) }),
			series("packet completeness", func(w summary.WeekTrend) float64 { return rate(w.PacketCompletenessRate) }),
		}, labels, 560, 220)},
	}
}

type drillData struct {
	Week, Key string
	Reviews   []string
	Accounts  []string // at-risk accounts without a review
}

// drill lists the reviews behind one of the dashboard's counts.
func (s *Server) drill(w http.ResponseWriter, r *http.Request, t summary.Trends, key string) {
	week := r.URL.Query().Get("of")
	i := slices.IndexFunc(t.Weeks, func(w summary.WeekTrend) bool { return w.Week == week })
	if i < 0 {
		s.problem(w, r, http.StatusNotFound, "The dashboard shows no week "+week+".")
		return
	}
	ids, ok := t.Weeks[i].Drill[key]
	if !ok {
		s.problem(w, r, http.StatusNotFound, "The dashboard has no figure "+key+".")
		return
	}
	d := drillData{Week: week, Key: key}
	if key == summary.DrillNoReview {
		d.Accounts = ids
	} else {
		d.Reviews = ids
	}
	s.render(w, r, http.StatusOK, "drill.html", key+" · "+week, d)
}

// dashboardCSV exports the dashboard's weeks, one row each.
func (s *Server) dashboardCSV(w http.ResponseWriter, r *http.Request) {
	t, ok := s.trends(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="churnwatch-dashboard-`+t.Through+`.csv"`)
	_, _ = w.Write([]byte(t.CSV()))
}
