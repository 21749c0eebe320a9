package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/churnwatch/churnwatch/identity"
	"github.com/churnwatch/churnwatch/store"
)

// The rendered leadership reports (store.Reports), for `starter summary`,
// `audit packets` and `register` on a machine that cannot open the store:
// the summary workflow hands them a report's ID, and they read it here.
func (s *Server) registerReports(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/reports/{id}", s.apiUser(s.apiReport))
}

// reportInfo is GET /api/reports/{id} without ?part: what the report holds.
type reportInfo struct {
	ID      string         `json:"id"`
	Week    string         `json:"week"`
	Created time.Time      `json:"created"`
	Kept    bool           `json:"kept"`
	Sizes   map[string]int `json:"sizes"` // bytes per part
}

// apiReport answers with the report's reference as JSON or, with
// ?part=KIND (summary.json, summary.md, summary.csv, audit.json,
// register.csv), that part as it was rendered. A report covers the whole
// book: managers, leaders and admins may read it, a CSM may not.
func (s *Server) apiReport(w http.ResponseWriter, r *http.Request, u identity.User) {
	if !u.SeesAll() && u.Role != identity.Manager {
		apiError(w, http.StatusForbidden, "reports cover the whole book: only managers, leaders and admins may read them")
		return
	}
	id, part := r.PathValue("id"), r.URL.Query().Get("part")
	if part == "" {
		info, err := s.Store.ReportInfo(r.Context(), id)
		if s.reportFailed(w, r, id, err) {
			return
		}
		writeJSON(w, http.StatusOK, reportInfo{ID: info.ID, Week: info.Week, Created: info.Created, Kept: info.Kept, Sizes: info.Sizes})
		return
	}
	if !slices.Contains(store.ReportKinds, part) {
		apiError(w, http.StatusBadRequest, "part "+part+" is not one of "+strings.Join(store.ReportKinds, ", "))
		return
	}
	b, err := s.Store.ReportPart(r.Context(), id, part)
	if s.reportFailed(w, r, id, err) {
		return
	}
	w.Header().Set("Content-Type", reportContentType(part))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// reportFailed answers a failed read of report id, if it failed.
func (s *Server) reportFailed(w http.ResponseWriter, r *http.Request, id string, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrNotFound):
		apiError(w, http.StatusNotFound, "no report "+id+" (on-demand reports are kept for a day)")
	default:
		s.logger().Error("api report", "path", r.URL.Path, "error", err)
		apiError(w, http.StatusInternalServerError, "the report could not be read; see the worker log")
	}
	return true
}

func reportContentType(part string) string {
	switch {
	case strings.HasSuffix(part, ".json"):
		return "application/json"
	case strings.HasSuffix(part, ".csv"):
		return "text/csv; charset=utf-8"
	}
	return "text/markdown; charset=utf-8"
}
