package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/churnwatch/churnwatch/identity"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/sso"
	"github.com/churnwatch/churnwatch/store"
)

func (s *Server) registerAuth(mux *http.ServeMux) {
	mux.HandleFunc("GET /login", s.loginShow)
	mux.HandleFunc("POST /login", s.loginCheck)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("GET /login/sso", s.ssoBegin)
	mux.HandleFunc("GET /login/sso/callback", s.ssoCallback)
}

type loginData struct {
	Next     string
	Username string
	Error    string
	SSO      bool
}

func (s *Server) loginShow(w http.ResponseWriter, r *http.Request) {
	s.renderLogin(w, r, http.StatusOK, loginData{Next: safeNext(r.URL.Query().Get("next"))})
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, d loginData) {
	d.SSO = s.SSO != nil
	// The login page has no user yet but needs the session's CSRF token.
	var b strings.Builder
	if err := pages.ExecuteTemplate(&b, "login.html", page{Title: "Sign in", CSRF: s.csrfToken(r), Data: d}); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// loginCheck signs a local user in. A wrong name and a wrong password get
// the same answer in the same time.
func (s *Server) loginCheck(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostForm.Get("username"))
	password := r.PostForm.Get("password")
	next := safeNext(r.PostForm.Get("next"))
	if !s.logins.allow(clientIP(r)) {
		s.record(r.Context(), review.EventSignInRefused, name, "", "too many attempts from "+clientIP(r))
		w.Header().Set("Retry-After", "60")
		s.renderLogin(w, r, http.StatusTooManyRequests, loginData{Next: next, Username: name, Error: "Too many sign-in attempts: wait a minute and try again."})
		return
	}
	u, ok, err := s.authenticate(r, name, password)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ok {
		s.record(r.Context(), review.EventSignInRefused, name, "", "wrong name or password, or a disabled user")
		s.renderLogin(w, r, http.StatusUnauthorized, loginData{Next: next, Username: name, Error: "That name and password do not match an enabled user."})
		return
	}
	if err := s.signIn(r, u, "password"); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) authenticate(r *http.Request, name, password string) (identity.User, bool, error) {
	hash, err := s.Store.PasswordHash(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) || (err == nil && hash == "") {
		identity.CheckNoUser(password)
		return identity.User{}, false, nil
	}
	if err != nil {
		return identity.User{}, false, err
	}
	if !identity.CheckPassword(hash, password) {
		return identity.User{}, false, nil
	}
	u, err := s.Store.User(r.Context(), name)
	if err != nil {
		return u, false, err
	}
	return u, !u.Disabled, nil
}

// signIn starts a fresh session for u: a new session token (against
// fixation) and a new CSRF token.
func (s *Server) signIn(r *http.Request, u identity.User, how string) error {
	if err := s.sessions.RenewToken(r.Context()); err != nil {
		return err
	}
	s.sessions.Put(r.Context(), sessionUser, u.Name)
	s.sessions.Put(r.Context(), sessionCSRF, randomToken())
	s.record(r.Context(), review.EventSignedIn, u.Name, "", how+" from "+clientIP(r))
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if name := s.sessions.GetString(r.Context(), sessionUser); name != "" {
		s.record(r.Context(), review.EventSignedOut, name, "", "")
	}
	if err := s.sessions.Destroy(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// ssoBegin sends the browser to the OpenID Connect provider.
func (s *Server) ssoBegin(w http.ResponseWriter, r *http.Request) {
	if s.SSO == nil {
		s.problem(w, r, http.StatusNotFound, "Single sign-on is not configured (auth.oidc.issuer).")
		return
	}
	authURL, pending, err := s.SSO.Begin()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b, _ := json.Marshal(pending)
	s.sessions.Put(r.Context(), sessionSSO, string(b))
	http.Redirect(w, r, authURL, http.StatusSeeOther)
}

// ssoCallback finishes single sign-on.
func (s *Server) ssoCallback(w http.ResponseWriter, r *http.Request) {
	if s.SSO == nil {
		s.problem(w, r, http.StatusNotFound, "Single sign-on is not configured (auth.oidc.issuer).")
		return
	}
	var pending sso.Pending
	raw := s.sessions.PopString(r.Context(), sessionSSO)
	if raw == "" || json.Unmarshal([]byte(raw), &pending) != nil {
		s.problem(w, r, http.StatusBadRequest, "This sign-in was not started here or has expired: start again from the sign-in page.")
		return
	}
	id, err := s.SSO.Finish(r.Context(), pending, r.URL.Query())
	if err != nil {
		s.record(r.Context(), review.EventSignInRefused, "", "", "single sign-on: "+err.Error())
		s.problem(w, r, http.StatusUnauthorized, "Single sign-on failed: "+err.Error())
		return
	}
	u, err := s.ssoUser(r, id)
	if err != nil {
		s.record(r.Context(), review.EventSignInRefused, id.Username, "", "single sign-on: "+err.Error())
		s.problem(w, r, http.StatusForbidden, err.Error())
		return
	}
	if err := s.signIn(r, u, "single sign-on"); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// ssoUser maps a provider identity to the user of the record with the same
// name, or adds one the first time. The role is the provider's role claim
// when it sends one, else the local user's; a stranger without a role is
// refused, and so is a disabled user.
func (s *Server) ssoUser(r *http.Request, id sso.Identity) (identity.User, error) {
	if err := identity.ValidName(id.Username); err != nil {
		return identity.User{}, errors.New("the provider's user name cannot be a Churnwatch user: " + err.Error())
	}
	u, err := s.Store.User(r.Context(), id.Username)
	switch {
	case err == nil:
		if u.Disabled {
			return u, errors.New(u.Name + " is disabled")
		}
		if id.Role == "" || identity.Role(id.Role) == u.Role {
			return u, nil
		}
		// The provider's role claim is the source of truth when it has one.
		role, err := identity.ParseRole(id.Role)
		if err != nil {
			return u, errors.New("the provider's role claim: " + err.Error())
		}
		if err := s.Store.SetRole(r.Context(), u.Name, role); err != nil {
			return u, err
		}
		s.logger().Info("role changed by single sign-on", "user", u.Name, "from", u.Role, "to", role)
		u.Role = role
		return u, nil
	case !errors.Is(err, store.ErrNotFound):
		return u, err
	}
	if id.Role == "" {
		return u, errors.New(id.Username + " is not a Churnwatch user and the provider sent no role: ask an admin to add them")
	}
	role, err := identity.ParseRole(id.Role)
	if err != nil {
		return u, errors.New("the provider's role claim: " + err.Error())
	}
	u = identity.User{Name: id.Username, Role: role, Email: id.Email}
	if err := s.Store.AddUser(r.Context(), u, ""); err != nil && !errors.Is(err, store.ErrExists) {
		return u, err
	}
	return s.Store.User(r.Context(), id.Username)
}
