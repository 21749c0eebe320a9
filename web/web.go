// Package web serves the team's pages beside the worker: sign-in, each
// user's inbox of reviews, the decision page where the signed-in CSM
// approves, edits or rejects, the leaders' dashboard and summary, and the
// token API that scripts and the CLI use.
//
// Every decision goes through the decision service (package decision), the
// same Temporal Update the CLI and Slack use; no handler here writes a
// decision to the store or Temporal on its own. Sessions, CSRF, the Host
// allowlist and the security headers are middleware, so no handler can
// forget them.
package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/churnwatch/churnwatch/chart"
	"github.com/churnwatch/churnwatch/codec"
	"github.com/churnwatch/churnwatch/decision"
	"github.com/churnwatch/churnwatch/identity"
	"github.com/churnwatch/churnwatch/prompts"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/sso"
	"github.com/churnwatch/churnwatch/store"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"money":     prompts.GroupThousands,
	"percent":   percent,
	"days":      days,
	"hours":     hours,
	"join":      strings.Join,
	"values":    values,
	"link":      review.PagePath,
	"sparkline": func(vs []float64) template.HTML { return chart.Sparkline(vs, 120, 28) },
	"timeLeft":  timeLeft,
	"overdue":   func(due time.Time) bool { return !due.IsZero() && time.Now().After(due) },
	"when":      func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"date":      func(t time.Time) string { return t.UTC().Format(time.DateOnly) },
	"query":     func(v url.Values) template.URL { return template.URL(v.Encode()) },
}).ParseFS(templateFiles, "templates/*.html"))

// Config is what the pages need besides their dependencies.
type Config struct {
	// PublicURL is where the team opens the pages; https makes the session
	// cookie Secure, and its host is allowed.
	PublicURL string
	// ListenAddr is the listener's HOST:PORT; its host is allowed.
	ListenAddr string
	// AllowedHosts are further Host headers accepted.
	AllowedHosts []string
	// SessionLifetime bounds a sign-in; SessionIdle ends one left unused.
	SessionLifetime, SessionIdle time.Duration
	// LoginAttemptsPerMinute bounds sign-in attempts per client address.
	LoginAttemptsPerMinute int
	// SendOutreach is the worker's notify.send_outreach: the decision form
	// asks where Churnwatch sends the approved outreach.
	SendOutreach bool
	// UIPort is the embedded Temporal Web UI's port on 127.0.0.1: with a
	// Codec, pages opened from it may call /codec/.
	UIPort int
}

// Server serves the pages and the API.
type Server struct {
	Store     store.Store
	Decisions *decision.Service
	// SSO is the OpenID Connect provider; nil when single sign-on is off.
	SSO    *sso.Provider
	Config Config
	Logger *slog.Logger
	// TeamOf names a CSM's manager, from the user record and config, for
	// the dashboard's teams; nil groups everybody in one team.
	TeamOf func(ctx context.Context, owner string) string
	// Codec, with Config.UIPort, is served to the Temporal Web UI at
	// /codec/ for leaders and admins; nil serves no codec.
	Codec *codec.AESGCM

	sessions     *scs.SessionManager
	logins       *limiter
	codecOrigins map[string]bool // the Web UI's origins; nil: no /codec/
}

// Handler returns the pages and the API behind the middleware: the Host
// allowlist first, then security headers, then sessions. mux receives the
// routes; paths the worker registers on it itself (/healthz, uploads) pass
// through the same Host check and headers.
func (s *Server) Handler(mux *http.ServeMux) http.Handler {
	s.sessions = scs.New()
	s.sessions.Store = sessionStore{s.Store}
	s.sessions.Lifetime = s.Config.SessionLifetime
	s.sessions.IdleTimeout = s.Config.SessionIdle
	s.sessions.Cookie.Name = "churnwatch_session"
	s.sessions.Cookie.HttpOnly = true
	s.sessions.Cookie.SameSite = http.SameSiteLaxMode
	s.sessions.Cookie.Secure = strings.HasPrefix(s.Config.PublicURL, "https://")
	s.sessions.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) { s.fail(w, r, err) }
	s.logins = newLimiter(s.Config.LoginAttemptsPerMinute)
	s.codecOrigins = s.uiOrigins()

	static, _ := fs.Sub(staticFiles, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	s.registerAuth(mux)
	s.registerPages(mux)
	s.registerAPI(mux)
	s.registerCodec(mux)

	// The API takes bearer tokens, not cookies, and Slack signs what it
	// sends to /slack/: both skip sessions and CSRF.
	withSessions := s.sessions.LoadAndSave(s.checkCSRF(mux))
	root := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/slack/") || r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics" {
			mux.ServeHTTP(w, r)
			return
		}
		withSessions.ServeHTTP(w, r)
	})
	return s.checkHost(securityHeaders(root))
}

// CleanSessions deletes expired sessions every interval until ctx ends.
func (s *Server) CleanSessions(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.Store.DeleteExpiredSessions(ctx); err != nil {
				s.logger().Warn("delete expired sessions", "error", err)
			} else if n > 0 {
				s.logger().Debug("deleted expired sessions", "count", n)
			}
		}
	}
}

// page is what every page template gets besides its own data.
type page struct {
	Title   string
	User    identity.User
	CSRF    string
	Overdue int // the signed-in user's overdue decisions, for the badge
	Data    any
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	p := page{Title: title, Data: data}
	if u, ok := userFrom(r.Context()); ok {
		p.User = u
		p.CSRF = s.csrfToken(r)
		p.Overdue = s.overdue(r.Context(), u)
	}
	// Render whole before writing, so a failure is an error page, not half
	// a page.
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, p); err != nil {
		s.fail(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	b.WriteTo(w)
}

// problem answers a page request that cannot be served, saying why.
func (s *Server) problem(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.render(w, r, status, "problem.html", http.StatusText(status), struct {
		Status int
		Msg    string
		Back   string
	}{status, msg, r.URL.Path})
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.logger().Error("web", "path", r.URL.Path, "error", err)
	http.Error(w, "the request failed; see the worker log", http.StatusInternalServerError)
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// record writes an access event (sign-in, refusal) to the measurement log.
func (s *Server) record(ctx context.Context, kind review.EventKind, actor, reviewID, detail string) {
	e := review.Event{Key: string(kind) + "/" + randomToken(), ReviewID: reviewID, Kind: kind, Actor: actor, At: time.Now(), Detail: detail}
	if _, err := s.Store.AppendEvent(ctx, e); err != nil {
		s.logger().Warn("record access event", "kind", kind, "error", err)
	}
	s.logger().Info("access", "kind", kind, "actor", actor, "review_id", reviewID, "detail", detail)
}

// reviewID is the review a /review/{account}/{cycle} path names.
func reviewID(r *http.Request) string {
	return review.ID(r.PathValue("account"), r.PathValue("cycle"))
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
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

func hours(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return strconv.FormatFloat(*v, 'f', 1, 64) + " h"
}

// timeLeft says how long until due, or how long overdue.
func timeLeft(due time.Time) string {
	if due.IsZero() {
		return ""
	}
	d := time.Until(due)
	over := d < 0
	if over {
		d = -d
	}
	var s string
	switch {
	case d >= 48*time.Hour:
		s = fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
	case d >= time.Hour:
		s = fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		s = fmt.Sprintf("%dm", int(d.Minutes()))
	}
	if over {
		return "overdue by " + s
	}
	return s + " left"
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

var errNoUser = errors.New("not signed in")
