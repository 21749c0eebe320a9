package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/churnwatch/churnwatch/identity"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/store"
)

// maxFormBytes bounds a form post: a decision's texts fit many times over,
// and a megabyte pasted into a field is refused before anything is read.
const maxFormBytes = 256 << 10

// checkHost refuses a request whose Host is not the listener's host,
// localhost, the public URL's host or one of the allowed hosts, before
// anything else happens: a page reached through a rebinding DNS name would
// otherwise run with the team's cookies.
func (s *Server) checkHost(next http.Handler) http.Handler {
	allowed := map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true}
	if host, _, err := net.SplitHostPort(s.Config.ListenAddr); err == nil && host != "" && host != "0.0.0.0" && host != "::" {
		allowed[strings.ToLower(host)] = true
	}
	if u, err := url.Parse(s.Config.PublicURL); err == nil && u.Hostname() != "" {
		allowed[strings.ToLower(u.Hostname())] = true
	}
	for _, h := range s.Config.AllowedHosts {
		allowed[strings.ToLower(strings.TrimSpace(h))] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.ToLower(strings.Trim(host, "[]"))
		if !allowed[host] {
			s.logger().Warn("request refused: host not allowed", "host", r.Host, "remote", clientIP(r), "path", r.URL.Path)
			http.Error(w, "host "+r.Host+" is not allowed: add it to http.allowed_hosts", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// securityHeaders sets the headers every answer carries. The pages use no
// script at all, and styles come from /static only.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			// Pages hold customer data: never kept by a shared cache.
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

const (
	sessionUser = "user"
	sessionCSRF = "csrf"
	sessionSSO  = "sso"
)

// csrfToken is the session's CSRF token, made on first use.
func (s *Server) csrfToken(r *http.Request) string {
	tok := s.sessions.GetString(r.Context(), sessionCSRF)
	if tok == "" {
		tok = randomToken()
		s.sessions.Put(r.Context(), sessionCSRF, tok)
	}
	return tok
}

// checkCSRF refuses every POST whose csrf_token is not the session's, and
// every form over maxFormBytes, before a handler sees it. The payload
// codec's JSON calls (/codec/, when served) come from the Temporal Web UI,
// which has no form token: their Origin must be the UI's instead.
func (s *Server) checkCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		if s.codecOrigins != nil && strings.HasPrefix(r.URL.Path, "/codec/") {
			if origin := r.Header.Get("Origin"); !s.codecOrigins[origin] {
				s.record(r.Context(), review.EventRefused, s.sessions.GetString(r.Context(), sessionUser), "", "403: payload codec called from origin "+strconv.Quote(origin))
				apiError(w, http.StatusForbidden, "the payload codec answers the Temporal Web UI's origin only")
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "the form is larger than 256 KB: nothing was changed", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "the form could not be read: "+err.Error(), http.StatusBadRequest)
			return
		}
		want := s.sessions.GetString(r.Context(), sessionCSRF)
		got := r.PostForm.Get("csrf_token")
		if want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
			actor := s.sessions.GetString(r.Context(), sessionUser)
			s.record(r.Context(), review.EventRefused, actor, "", "403: missing or wrong CSRF token on POST "+r.URL.Path)
			http.Error(w, "the form's security token is missing or stale: reload the page and try again; nothing was changed", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

type userKey struct{}

func userFrom(ctx context.Context) (identity.User, bool) {
	u, ok := ctx.Value(userKey{}).(identity.User)
	return u, ok
}

// requireUser serves h to a signed-in, enabled user, read fresh from the
// record (a disabled user or a changed role takes effect at once); others
// are sent to sign in.
func (s *Server) requireUser(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, ok, err := s.signedIn(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !ok {
			s.toLogin(w, r)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)))
	}
}

// signedIn is the session's user, read fresh from the record; not ok (and
// the session ended) when nobody is signed in or the user is gone or
// disabled.
func (s *Server) signedIn(r *http.Request) (identity.User, bool, error) {
	name := s.sessions.GetString(r.Context(), sessionUser)
	if name == "" {
		return identity.User{}, false, nil
	}
	u, err := s.Store.User(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
		_ = s.sessions.Destroy(r.Context())
		return identity.User{}, false, nil
	}
	if err != nil {
		return identity.User{}, false, err
	}
	return u, true, nil
}

func (s *Server) toLogin(w http.ResponseWriter, r *http.Request) {
	next := r.URL.Path
	if r.URL.RawQuery != "" && r.Method == http.MethodGet {
		next += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
}

// safeNext keeps a post-sign-in redirect on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

// randomToken is 32 random bytes, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// limiter bounds sign-in attempts per client address.
type limiter struct {
	mu      sync.Mutex
	perMin  int
	clients map[string]*rate.Limiter
	swept   time.Time
}

func newLimiter(perMinute int) *limiter {
	return &limiter{perMin: max(perMinute, 1), clients: map[string]*rate.Limiter{}}
}

func (l *limiter) allow(client string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if time.Since(l.swept) > 10*time.Minute {
		// Forget clients whose bucket has refilled; they would start full.
		for k, lim := range l.clients {
			if lim.Tokens() >= float64(l.perMin) {
				delete(l.clients, k)
			}
		}
		l.swept = time.Now()
	}
	lim := l.clients[client]
	if lim == nil {
		lim = rate.NewLimiter(rate.Limit(float64(l.perMin)/60), l.perMin)
		l.clients[client] = lim
	}
	return lim.Allow()
}

// sessionStore keeps scs sessions in the decision record, so a sign-in
// survives a worker restart and every worker of a deployment shares them.
type sessionStore struct{ st store.Store }

func (s sessionStore) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

func (s sessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

func (s sessionStore) Delete(token string) error {
	return s.DeleteCtx(context.Background(), token)
}

func (s sessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	return s.st.FindSession(ctx, token)
}

func (s sessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	return s.st.CommitSession(ctx, token, b, expiry)
}

func (s sessionStore) DeleteCtx(ctx context.Context, token string) error {
	return s.st.DeleteSession(ctx, token)
}
