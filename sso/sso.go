// Package sso signs Churnwatch users in through an OpenID Connect provider
// using the authorization code flow with PKCE.
//
// The web layer calls Begin to get the provider's authorization URL and a
// Pending value it keeps in the browser's session, then calls Finish with
// that Pending value and the query of the callback request. Finish returns
// the verified Identity; deciding whether that identity may use Churnwatch
// is left to the caller.
package sso

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// DefaultHTTPTimeout bounds discovery, key fetches and the code exchange
// when the caller did not put its own client in the context. A provider that
// hangs must not hold a login request (and its goroutine) forever.
const DefaultHTTPTimeout = 10 * time.Second

// defaultClient is used when the context carries no oauth2.HTTPClient.
var defaultClient = &http.Client{Timeout: DefaultHTTPTimeout}

// Errors Finish can return, so the web layer can pick what to tell the user
// with errors.Is. The wrapped message carries the detail for the log.
var (
	// ErrProviderRefused: the provider redirected back with an error
	// parameter (the user cancelled, consent was denied, ...).
	ErrProviderRefused = errors.New("sso: the identity provider refused the sign-in")
	// ErrStateMismatch: the callback does not belong to the sign-in this
	// browser started, which is what a login CSRF looks like.
	ErrStateMismatch = errors.New("sso: callback state does not match the sign-in in progress")
	// ErrNonceMismatch: the ID token was issued for another authorization
	// request, which is what a replayed or injected token looks like.
	ErrNonceMismatch = errors.New("sso: ID token nonce does not match the sign-in in progress")
	// ErrMissingClaim: the ID token lacks the claim naming the Churnwatch user.
	ErrMissingClaim = errors.New("sso: ID token lacks a required claim")
)

// Config describes the OIDC client registration at the provider.
type Config struct {
	Issuer, ClientID, ClientSecret string
	RedirectURL                    string // e.g. https://churnwatch.example.com/login/sso/callback
	RoleClaim                      string // claim holding csm|manager|leader|admin; "" = none
	UsernameClaim                  string // claim whose value is the Churnwatch user name (e.g. preferred_username)
}

// Provider is a discovered OIDC provider ready to run sign-ins. It is safe
// for concurrent use; all per-sign-in state lives in Pending.
type Provider struct {
	cfg      Config
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// Pending is what the web layer keeps in the browser's session between
// Begin and Finish. All three values are secrets of that one browser: keep
// them server-side or in an encrypted, HttpOnly cookie.
type Pending struct {
	State, Verifier, Nonce string
}

// Identity is the verified result of a sign-in.
type Identity struct {
	Username, Email, Role string // Role is "" when the role claim is absent
	Subject               string // the provider's stable user id ("sub")
}

// New fetches the issuer's discovery document and prepares the client.
// The HTTP client comes from ctx (oauth2.HTTPClient, as set by
// oidc.ClientContext); without one a client with DefaultHTTPTimeout is used,
// and the same client is kept for later signing-key fetches.
func New(ctx context.Context, c Config) (*Provider, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	ctx = withClient(ctx)
	op, err := oidc.NewProvider(ctx, c.Issuer)
	if err != nil {
		return nil, fmt.Errorf("sso: discovering OIDC provider %q: %w", c.Issuer, err)
	}
	return &Provider{
		cfg: c,
		oauth: oauth2.Config{
			ClientID:     c.ClientID,
			ClientSecret: c.ClientSecret,
			Endpoint:     op.Endpoint(),
			RedirectURL:  c.RedirectURL,
			Scopes:       []string{oidc.ScopeOpenID, "profile", "email"},
		},
		// Verifier checks signature, issuer, audience (our client id) and
		// expiry; the nonce is checked by Finish against Pending.
		verifier: op.Verifier(&oidc.Config{ClientID: c.ClientID}),
	}, nil
}

func (c Config) validate() error {
	missing := func(field string) error {
		return fmt.Errorf("sso: config for issuer %q: %s is required", c.Issuer, field)
	}
	switch {
	case c.Issuer == "":
		return errors.New("sso: config: Issuer is required")
	case c.ClientID == "":
		return missing("ClientID")
	case c.RedirectURL == "":
		return missing("RedirectURL")
	case c.UsernameClaim == "":
		// Without it we could not tell which Churnwatch user signed in.
		return missing("UsernameClaim")
	}
	if _, err := url.Parse(c.RedirectURL); err != nil {
		return fmt.Errorf("sso: config for issuer %q: RedirectURL: %w", c.Issuer, err)
	}
	return nil
}

// withClient makes sure ctx carries an HTTP client, so neither go-oidc nor
// oauth2 falls back to http.DefaultClient, which has no timeout.
func withClient(ctx context.Context) context.Context {
	if _, ok := ctx.Value(oauth2.HTTPClient).(*http.Client); ok {
		return ctx
	}
	return oidc.ClientContext(ctx, defaultClient)
}

// Begin starts a sign-in: it returns the provider URL to redirect the
// browser to and the Pending values Finish will need.
func (p *Provider) Begin() (authURL string, pending Pending, err error) {
	if p == nil || p.verifier == nil {
		return "", Pending{}, errors.New("sso: provider is not configured; use sso.New")
	}
	pending = Pending{
		// rand.Text gives 128 bits of randomness, enough that neither the
		// state nor the nonce can be guessed by an attacker.
		State:    rand.Text(),
		Nonce:    rand.Text(),
		Verifier: oauth2.GenerateVerifier(),
	}
	authURL = p.oauth.AuthCodeURL(pending.State,
		oidc.Nonce(pending.Nonce),
		oauth2.S256ChallengeOption(pending.Verifier),
	)
	return authURL, pending, nil
}

// Finish checks the callback's state against pending (constant-time),
// exchanges the code with the verifier, verifies the ID token (issuer,
// audience, expiry, nonce) and maps the claims.
//
// Errors never include the code or any token, so they are safe to log.
func (p *Provider) Finish(ctx context.Context, pending Pending, callback url.Values) (Identity, error) {
	if p == nil || p.verifier == nil {
		return Identity{}, errors.New("sso: provider is not configured; use sso.New")
	}
	code, err := checkCallback(pending, callback)
	if err != nil {
		return Identity{}, err
	}
	ctx = withClient(ctx)
	tok, err := p.oauth.Exchange(ctx, code, oauth2.VerifierOption(pending.Verifier))
	if err != nil {
		return Identity{}, exchangeError(p.cfg.Issuer, err)
	}
	rawID, ok := tok.Extra("id_token").(string)
	if !ok || rawID == "" {
		return Identity{}, fmt.Errorf("sso: token response from %q has no id_token; is the openid scope allowed for this client?", p.cfg.Issuer)
	}
	idTok, err := p.verifier.Verify(ctx, rawID)
	if err != nil {
		return Identity{}, fmt.Errorf("sso: verifying ID token from %q: %w", p.cfg.Issuer, err)
	}
	if subtle.ConstantTimeCompare([]byte(idTok.Nonce), []byte(pending.Nonce)) != 1 {
		return Identity{}, ErrNonceMismatch
	}
	return p.identity(idTok)
}

// checkCallback validates the callback query against the sign-in in
// progress and returns the authorization code.
func checkCallback(pending Pending, callback url.Values) (string, error) {
	if e := callback.Get("error"); e != "" {
		// The values come from the browser's URL: quote them so a crafted
		// callback cannot forge log lines.
		if d := callback.Get("error_description"); d != "" {
			return "", fmt.Errorf("%w: %q: %q", ErrProviderRefused, truncate(e, 100), truncate(d, 200))
		}
		return "", fmt.Errorf("%w: %q", ErrProviderRefused, truncate(e, 100))
	}
	if pending.State == "" || pending.Verifier == "" || pending.Nonce == "" {
		// An empty pending state would match a callback without state.
		return "", errors.New("sso: no sign-in in progress for this session (expired or already used)")
	}
	if subtle.ConstantTimeCompare([]byte(callback.Get("state")), []byte(pending.State)) != 1 {
		return "", ErrStateMismatch
	}
	code := callback.Get("code")
	if code == "" {
		return "", errors.New("sso: callback has no authorization code")
	}
	return code, nil
}

// exchangeError describes a failed code exchange without echoing the
// provider's response body: some providers repeat the submitted form
// (client secret, code) in their error descriptions.
func exchangeError(issuer string, err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return fmt.Errorf("sso: exchanging code with %q: %w", issuer, err)
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	if re.ErrorCode == "" {
		return fmt.Errorf("sso: exchanging code with %q: token endpoint answered HTTP %d", issuer, status)
	}
	return fmt.Errorf("sso: exchanging code with %q: token endpoint answered HTTP %d, error %q", issuer, status, re.ErrorCode)
}

// identity maps the verified ID token's claims to an Identity.
func (p *Provider) identity(idTok *oidc.IDToken) (Identity, error) {
	var claims map[string]any
	if err := idTok.Claims(&claims); err != nil {
		return Identity{}, fmt.Errorf("sso: decoding ID token claims: %w", err)
	}
	username, err := stringClaim(claims, p.cfg.UsernameClaim)
	if err != nil {
		return Identity{}, err
	}
	if username == "" {
		return Identity{}, fmt.Errorf("%w: %q (the Churnwatch user name)", ErrMissingClaim, p.cfg.UsernameClaim)
	}
	id := Identity{Username: username, Subject: idTok.Subject}
	if id.Email, err = stringClaim(claims, "email"); err != nil {
		return Identity{}, err
	}
	if p.cfg.RoleClaim != "" {
		if id.Role, err = stringClaim(claims, p.cfg.RoleClaim); err != nil {
			return Identity{}, err
		}
	}
	return id, nil
}

// stringClaim returns the named claim, "" when it is absent or null, and an
// error when it has another type: guessing how to flatten a list of roles
// would be a security decision, so it is refused instead.
func stringClaim(claims map[string]any, name string) (string, error) {
	v, ok := claims[name]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("sso: ID token claim %q is a %T, want a string", name, v)
	}
	return s, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
