package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/churnwatch/churnwatch/decision"
	"github.com/churnwatch/churnwatch/identity"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/store"
)

// The API for scripts and the CLI: the same decisions as the pages, as the
// user a personal token (`starter users token NAME`) belongs to.
func (s *Server) registerAPI(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/reviews", s.apiUser(s.apiList))
	mux.HandleFunc("GET /api/reviews/{account}/{cycle}", s.apiUser(s.apiShow))
	mux.HandleFunc("POST /api/reviews/{account}/{cycle}/decision", s.apiUser(s.apiDecide))
	mux.HandleFunc("POST /api/reviews/{account}/{cycle}/progress", s.apiUser(s.apiProgress))
	mux.HandleFunc("POST /api/reviews/{account}/{cycle}/outcome", s.apiUser(s.apiOutcome))
	s.registerReports(mux)
}

// maxAPIBody bounds a JSON request, like a form.
const maxAPIBody = maxFormBytes

// apiUser serves h to the enabled user whose token the request bears; any
// other request gets 401 with a JSON error, never a redirect.
func (s *Server) apiUser(h func(w http.ResponseWriter, r *http.Request, u identity.User)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || strings.TrimSpace(token) == "" {
			apiError(w, http.StatusUnauthorized, "send Authorization: Bearer <token> (from `starter users token NAME`)")
			return
		}
		u, err := s.Store.UserByToken(r.Context(), identity.HashToken(strings.TrimSpace(token)))
		if errors.Is(err, store.ErrNotFound) {
			s.record(r.Context(), review.EventRefused, "", "", "401: unknown API token from "+clientIP(r))
			apiError(w, http.StatusUnauthorized, "the token is not valid")
			return
		}
		if err != nil {
			s.logger().Error("api", "path", r.URL.Path, "error", err)
			apiError(w, http.StatusInternalServerError, "the token could not be checked; see the worker log")
			return
		}
		if u.Disabled {
			s.record(r.Context(), review.EventRefused, u.Name, "", "401: API token of a disabled user")
			apiError(w, http.StatusUnauthorized, "the token's user is disabled")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxAPIBody)
		h(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)), u)
	}
}

func (s *Server) apiList(w http.ResponseWriter, r *http.Request, u identity.User) {
	q := r.URL.Query()
	if q.Get("state") == "" {
		q.Set("state", "all")
	}
	f, err := s.queueFilter(r.Context(), u, q)
	if err != nil {
		apiError(w, decision.StatusOf(err), err.Error())
		return
	}
	f.Limit, f.Offset = atoi(q.Get("limit")), atoi(q.Get("offset"))
	rows, _, err := s.Store.Queue(r.Context(), f)
	if err != nil {
		s.logger().Error("api list", "error", err)
		apiError(w, http.StatusInternalServerError, "the reviews could not be read; see the worker log")
		return
	}
	items := make([]review.Item, len(rows))
	for i, row := range rows {
		items[i] = review.Item{ReviewID: row.ReviewID, AccountID: row.AccountID, Tier: string(row.Tier), Score: row.Score, State: string(row.State), Owner: row.Owner}
	}
	writeJSON(w, http.StatusOK, items)
}

func (s *Server) apiShow(w http.ResponseWriter, r *http.Request, u identity.User) {
	p, err := s.Decisions.Packet(r.Context(), u, reviewID(r))
	s.apiAnswer(w, r, p, err)
}

func (s *Server) apiDecide(w http.ResponseWriter, r *http.Request, u identity.User) {
	var req decision.Request
	if !readJSON(w, r, &req) {
		return
	}
	p, err := s.Decisions.Decide(r.Context(), u, reviewID(r), req, r.Header.Get("Idempotency-Key"))
	s.apiAnswer(w, r, p, err)
}

func (s *Server) apiProgress(w http.ResponseWriter, r *http.Request, u identity.User) {
	var req struct{ Event, Note string }
	if !readJSON(w, r, &req) {
		return
	}
	p, err := s.Decisions.Progress(r.Context(), u, reviewID(r), req.Event, req.Note, r.Header.Get("Idempotency-Key"))
	s.apiAnswer(w, r, p, err)
}

func (s *Server) apiOutcome(w http.ResponseWriter, r *http.Request, u identity.User) {
	var req struct{ Result, Note string }
	if !readJSON(w, r, &req) {
		return
	}
	p, err := s.Decisions.Outcome(r.Context(), u, reviewID(r), req.Result, req.Note, r.Header.Get("Idempotency-Key"))
	s.apiAnswer(w, r, p, err)
}

func (s *Server) apiAnswer(w http.ResponseWriter, r *http.Request, p review.Packet, err error) {
	if err != nil {
		status := decision.StatusOf(err)
		msg := err.Error()
		if status >= 500 && !decision.Explained(err) {
			s.logger().Error("api", "path", r.URL.Path, "error", err)
			msg = "the request failed; see the worker log"
		}
		apiError(w, status, msg)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// readJSON decodes the request body into v, answering 413 or 422 itself
// when it cannot.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	err := json.NewDecoder(r.Body).Decode(v)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		apiError(w, http.StatusRequestEntityTooLarge, "the request body is larger than 256 KB: nothing was changed")
		return false
	case err != nil:
		apiError(w, http.StatusUnprocessableEntity, "the request body is not the JSON expected: "+err.Error())
		return false
	}
	return true
}

func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
