// Package web serves the pages a CS team opens in a browser beside the
// worker: the reviews, each review's decision packet with its evidence and
// drafts, and the week's leadership summary.
//
// The pages only read the decision record. Deciding stays with the
// approval gate (the Temporal Update behind `starter review approve`),
// which checks who is asking; a page shows the command to run instead of
// a button, so nothing here can approve, reject or reach a customer.
package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/churnwatch/churnwatch/prompts"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/summary"
)

//go:embed templates/*.html
var templateFiles embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"money":   prompts.GroupThousands,
	"percent": percent,
	"days":    days,
	"join":    strings.Join,
	"values":  values,
	"link":    review.PagePath,
}).ParseFS(templateFiles, "templates/*.html"))

// Server serves the pages from the decision record.
type Server struct {
	Store  store.Store
	Logger *slog.Logger
}

// Register adds the pages to mux: / (the reviews), /review/{account}/{cycle}
// and /summary.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.reviews)
	mux.HandleFunc("GET /review/{account}/{cycle}", s.packet)
	mux.HandleFunc("GET /summary", s.summary)
}

// reviews lists the reviews, newest cycle first, filtered by ?state= and
// ?owner=.
func (s *Server) reviews(w http.ResponseWriter, r *http.Request) {
	f := store.PacketFilter{Owner: r.URL.Query().Get("owner"), State: review.State(r.URL.Query().Get("state"))}
	// Read only the newest cycles that hold the first maxRows reviews, whole
	// (the list orders each cycle by urgency): a record of many weeks of
	// reviews is not read through to show one page of it.
	cycles, err := s.Store.PacketCycles(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	total, since := 0, ""
	for _, c := range cycles {
		if total < maxRows {
			since = c.Cycle
		}
		total += c.Packets
	}
	var packets []review.Packet
	if total > 0 {
		newest := f
		newest.Since = since
		if packets, err = s.Store.Packets(r.Context(), newest); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	sortPackets(packets)
	packets = packets[:min(len(packets), maxRows)]
	s.render(w, r, "reviews.html", struct {
		Filter  store.PacketFilter
		Packets []review.Packet
		Total   int
		States  []review.State
	}{f, packets, total, []review.State{review.AwaitingApproval, review.Approved, review.Rejected, review.ActionAssigned, review.AwaitingOutcome, review.Closed}})
}

// maxRows bounds the reviews one page lists; the filters narrow the rest.
const maxRows = 500

// packet shows one review's decision packet.
func (s *Server) packet(w http.ResponseWriter, r *http.Request) {
	id := review.ID(r.PathValue("account"), r.PathValue("cycle"))
	p, err := s.Store.Packet(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		http.Error(w, "no review "+id, http.StatusNotFound)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "packet.html", struct {
		P       review.Packet
		Missing []string
	}{p, p.Missing()})
}

// summary shows the leadership summary of ?week= (default the latest
// scored week).
func (s *Server) summary(w http.ResponseWriter, r *http.Request) {
	sum, err := summary.Build(r.Context(), s.Store, r.URL.Query().Get("week"))
	if errors.Is(err, summary.ErrNoScores) {
		http.Error(w, "nothing scored yet for that week: run `starter scan` first", http.StatusNotFound)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "summary.html", sum)
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, data any) {
	// Render whole before writing, so a failure is an error page, not half
	// a page.
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		s.fail(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	b.WriteTo(w)
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if s.Logger != nil {
		s.Logger.Error("web page", "path", r.URL.Path, "error", err)
	}
	http.Error(w, "the decision record could not be read; see the worker log", http.StatusInternalServerError)
}

// sortPackets puts the newest cycle first and, within a cycle, the most
// urgent tier, then the highest score.
func sortPackets(ps []review.Packet) {
	slices.SortFunc(ps, func(a, b review.Packet) int {
		switch {
		case a.Cycle != b.Cycle:
			return -strings.Compare(a.Cycle, b.Cycle)
		case a.Severity.Rank() != b.Severity.Rank():
			return a.Severity.Rank() - b.Severity.Rank()
		case a.Assessment.Score != b.Assessment.Score:
			return b.Assessment.Score - a.Assessment.Score
		}
		return strings.Compare(a.ReviewID, b.ReviewID)
	})
}

func percent(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return strconv.FormatFloat(100**v, 'f', 0, 64) + "%"
}

func days(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return strconv.FormatFloat(*v, 'f', 1, 64)
}

// values pairs an evidence's weeks with its values, as "week: value".
func values(e risk.Evidence) []string {
	out := make([]string, 0, len(e.Values))
	for i, v := range e.Values {
		label := ""
		if i < len(e.Weeks) {
			label = e.Weeks[i] + ": "
		}
		out = append(out, label+strconv.FormatFloat(v, 'f', -1, 64))
	}
	return out
}
