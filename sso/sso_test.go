package sso_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
	"golang.org/x/oauth2"

	"github.com/churnwatch/churnwatch/sso"
)

// The redirect URL is never served: the test browser stops at it and hands
// its query to Finish, as the web layer's callback handler would.
const redirectURL = "https://churnwatch.example.com/login/sso/callback"

const roleClaim = "churnwatch_role"

// testUser is a mockoidc.User with the claims Churnwatch reads, including a
// custom role claim that mockoidc's own MockUser cannot carry.
type testUser struct {
	Subject, Username, Email, Role string
}

func dana() testUser {
	return testUser{Subject: "user-1234", Username: "dana", Email: "dana@example.com", Role: "csm"}
}

func (u testUser) ID() string { return u.Subject }

func (u testUser) Userinfo([]string) ([]byte, error) {
	return json.Marshal(map[string]string{"sub": u.Subject, "preferred_username": u.Username, "email": u.Email})
}

type testClaims struct {
	*mockoidc.IDTokenClaims
	PreferredUsername string `json:"preferred_username,omitempty"`
	Email             string `json:"email,omitempty"`
	Role              string `json:"churnwatch_role,omitempty"`
}

func (u testUser) Claims(_ []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	return &testClaims{IDTokenClaims: base, PreferredUsername: u.Username, Email: u.Email, Role: u.Role}, nil
}

// testOP is a real mockoidc provider on 127.0.0.1 that also records what
// the client sent, so tests can check PKCE on the wire.
type testOP struct {
	*mockoidc.MockOIDC

	mu         sync.Mutex
	authorize  []url.Values // query of each authorization request
	tokenCalls int
	deny       string // when set, authorization answers with this OAuth error
}

func startOP(t *testing.T, user testUser, deny string) *testOP {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatalf("mockoidc.NewServer: %v", err)
	}
	op := &testOP{MockOIDC: m, deny: deny}
	if err := m.AddMiddleware(op.record); err != nil {
		t.Fatalf("AddMiddleware: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatalf("mockoidc.Start: %v", err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	m.QueueUser(user)
	return op
}

func (op *testOP) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op.mu.Lock()
		switch r.URL.Path {
		case mockoidc.AuthorizationEndpoint:
			op.authorize = append(op.authorize, r.URL.Query())
		case mockoidc.TokenEndpoint:
			op.tokenCalls++
		}
		deny := op.deny
		op.mu.Unlock()

		if deny != "" && r.URL.Path == mockoidc.AuthorizationEndpoint {
			// What a real provider does when the user cancels: redirect
			// back with the error instead of a code.
			q := r.URL.Query()
			back, _ := url.Parse(q.Get("redirect_uri"))
			back.RawQuery = url.Values{
				"error":             {deny},
				"error_description": {"The user cancelled the sign-in"},
				"state":             {q.Get("state")},
			}.Encode()
			http.Redirect(w, r, back.String(), http.StatusFound)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// seen returns what the provider has received so far.
func (op *testOP) seen() (tokenCalls int, authorize []url.Values) {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.tokenCalls, append([]url.Values(nil), op.authorize...)
}

func (op *testOP) config() sso.Config {
	return sso.Config{
		Issuer:        op.Issuer(),
		ClientID:      op.ClientID,
		ClientSecret:  op.ClientSecret,
		RedirectURL:   redirectURL,
		RoleClaim:     roleClaim,
		UsernameClaim: "preferred_username",
	}
}

// recordingTransport notes the paths requested through the caller's client,
// to prove sso uses the client from the context for every call.
type recordingTransport struct {
	mu    sync.Mutex
	paths []string
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.paths = append(rt.paths, r.URL.Path)
	rt.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// browse plays the browser: it opens authURL and stops at the redirect to
// RedirectURL, returning that redirect's query.
func browse(t *testing.T, authURL string) url.Values {
	t.Helper()
	want, _ := url.Parse(redirectURL)
	browser := &http.Client{
		Timeout: 5 * time.Second,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if req.URL.Host == want.Host {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	resp, err := browser.Get(authURL)
	if err != nil {
		t.Fatalf("following the authorization URL: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorization endpoint answered %s, want a redirect to the callback", resp.Status)
	}
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("redirect location: %v", err)
	}
	if loc.Host != want.Host || loc.Path != want.Path {
		t.Fatalf("provider redirected to %s, want %s", loc, redirectURL)
	}
	return loc.Query()
}

func TestSignIn(t *testing.T) {
	op := startOP(t, dana(), "")
	rt := &recordingTransport{}
	ctx := oidc.ClientContext(context.Background(), &http.Client{Transport: rt, Timeout: 5 * time.Second})

	p, err := sso.New(ctx, op.config())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	authURL, pending, err := p.Begin()
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	callback := browse(t, authURL)
	id, err := p.Finish(ctx, pending, callback)
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}

	want := sso.Identity{Username: "dana", Email: "dana@example.com", Role: "csm", Subject: "user-1234"}
	if id != want {
		t.Errorf("Identity = %+v, want %+v", id, want)
	}

	// PKCE and nonce must be on the wire, not just in our structs.
	_, authorize := op.seen()
	if len(authorize) != 1 {
		t.Fatalf("provider saw %d authorization requests, want 1", len(authorize))
	}
	q := authorize[0]
	if got := q.Get("code_challenge_method"); got != "S256" {
		t.Errorf("code_challenge_method = %q, want S256", got)
	}
	if got, want := q.Get("code_challenge"), oauth2.S256ChallengeFromVerifier(pending.Verifier); got != want {
		t.Errorf("code_challenge = %q, want S256(verifier) = %q", got, want)
	}
	if q.Get("state") != pending.State || q.Get("nonce") != pending.Nonce {
		t.Errorf("authorization request state/nonce = %q/%q, want the pending ones", q.Get("state"), q.Get("nonce"))
	}
	if strings.Contains(authURL, pending.Verifier) {
		t.Error("the authorization URL leaks the PKCE verifier")
	}

	// Discovery, token exchange and key fetch all used the caller's client.
	for _, path := range []string{mockoidc.DiscoveryEndpoint, mockoidc.TokenEndpoint, mockoidc.JWKSEndpoint} {
		found := false
		for _, p := range rt.paths {
			found = found || p == path
		}
		if !found {
			t.Errorf("%s was not requested through the context's client (saw %v)", path, rt.paths)
		}
	}
}

func TestSignInWithoutRoleClaim(t *testing.T) {
	user := dana()
	user.Role = ""
	op := startOP(t, user, "")
	ctx := context.Background()
	p, err := sso.New(ctx, op.config())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	authURL, pending, err := p.Begin()
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	id, err := p.Finish(ctx, pending, browse(t, authURL))
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	if id.Username != "dana" || id.Role != "" {
		t.Errorf("Identity = %+v, want user dana with no role", id)
	}
}

func TestBeginIsRandom(t *testing.T) {
	op := startOP(t, dana(), "")
	p, err := sso.New(context.Background(), op.config())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	_, a, _ := p.Begin()
	_, b, _ := p.Begin()
	if a.State == b.State || a.Nonce == b.Nonce || a.Verifier == b.Verifier {
		t.Errorf("two Begin calls share values: %+v and %+v", a, b)
	}
	if a.State == "" || a.Nonce == "" || a.Verifier == "" {
		t.Errorf("Begin returned empty values: %+v", a)
	}
}

// TestFinishRefuses runs real sign-ins that go wrong in one way each and
// checks Finish refuses them with a clear error that leaks no secrets.
func TestFinishRefuses(t *testing.T) {
	noUsername := dana()
	noUsername.Username = ""

	tests := []struct {
		name       string
		user       testUser
		deny       string                              // provider answers authorization with this error
		tamperURL  func(q url.Values)                  // attacker edits the authorization request
		tamper     func(p *sso.Pending, cb url.Values) // attacker edits the session or callback
		wantErr    error                               // errors.Is target, when there is one
		wantMsg    string
		wantNoCall bool // the token endpoint must not be reached
	}{
		{
			name:       "provider error parameter",
			deny:       "access_denied",
			wantErr:    sso.ErrProviderRefused,
			wantMsg:    `"access_denied": "The user cancelled the sign-in"`,
			wantNoCall: true,
		},
		{
			name:       "wrong state",
			tamper:     func(_ *sso.Pending, cb url.Values) { cb.Set("state", "forged") },
			wantErr:    sso.ErrStateMismatch,
			wantNoCall: true,
		},
		{
			name:       "missing state",
			tamper:     func(_ *sso.Pending, cb url.Values) { cb.Del("state") },
			wantErr:    sso.ErrStateMismatch,
			wantNoCall: true,
		},
		{
			name:       "no sign-in in progress",
			tamper:     func(p *sso.Pending, cb url.Values) { *p = sso.Pending{}; cb.Del("state") },
			wantMsg:    "no sign-in in progress",
			wantNoCall: true,
		},
		{
			name:       "missing code",
			tamper:     func(_ *sso.Pending, cb url.Values) { cb.Del("code") },
			wantMsg:    "no authorization code",
			wantNoCall: true,
		},
		{
			name:    "nonce in session does not match token",
			tamper:  func(p *sso.Pending, _ url.Values) { p.Nonce = "other-sign-in" },
			wantErr: sso.ErrNonceMismatch,
		},
		{
			name:      "nonce tampered in authorization request",
			tamperURL: func(q url.Values) { q.Set("nonce", "attacker-nonce") },
			wantErr:   sso.ErrNonceMismatch,
		},
		{
			name:    "PKCE verifier does not match challenge",
			tamper:  func(p *sso.Pending, _ url.Values) { p.Verifier = oauth2.GenerateVerifier() },
			wantMsg: `error "invalid_grant"`,
		},
		{
			name:    "ID token without username claim",
			user:    noUsername,
			wantErr: sso.ErrMissingClaim,
			wantMsg: `"preferred_username"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user := tt.user
			if user == (testUser{}) {
				user = dana()
			}
			op := startOP(t, user, tt.deny)
			ctx := context.Background()
			p, err := sso.New(ctx, op.config())
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			authURL, pending, err := p.Begin()
			if err != nil {
				t.Fatalf("Begin: %v", err)
			}
			if tt.tamperURL != nil {
				u, _ := url.Parse(authURL)
				q := u.Query()
				tt.tamperURL(q)
				u.RawQuery = q.Encode()
				authURL = u.String()
			}
			callback := browse(t, authURL)
			code := callback.Get("code")
			if tt.tamper != nil {
				tt.tamper(&pending, callback)
			}

			id, err := p.Finish(ctx, pending, callback)
			if err == nil {
				t.Fatalf("Finish accepted the sign-in as %+v", id)
			}
			t.Logf("refused: %v", err)
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Finish error = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Finish error = %v, want it to mention %s", err, tt.wantMsg)
			}
			if id != (sso.Identity{}) {
				t.Errorf("Finish returned identity %+v with its error", id)
			}
			assertNoSecrets(t, err, code, op.ClientSecret, pending.Verifier)
			if calls, _ := op.seen(); tt.wantNoCall && calls != 0 {
				t.Errorf("token endpoint called %d times for a refused callback", calls)
			}
		})
	}
}

// assertNoSecrets fails if err echoes a secret or anything that looks like
// a JWT (they all start with the base64 of `{"`).
func assertNoSecrets(t *testing.T, err error, secrets ...string) {
	t.Helper()
	msg := err.Error()
	if strings.Contains(msg, "eyJ") {
		t.Errorf("error looks like it contains a token: %v", err)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			t.Errorf("error contains a secret (%.4s...): %v", s, err)
		}
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	op := startOP(t, dana(), "")

	// A port nothing listens on: discovery must fail and name the issuer.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	deadIssuer := "http://" + ln.Addr().String() + "/oidc"
	ln.Close()

	tests := []struct {
		name    string
		edit    func(c *sso.Config)
		wantMsg string
	}{
		{"unreachable issuer", func(c *sso.Config) { c.Issuer = deadIssuer }, deadIssuer},
		{"issuer differs from discovery", func(c *sso.Config) { c.Issuer += "/" }, op.Issuer() + "/"},
		{"no username claim", func(c *sso.Config) { c.UsernameClaim = "" }, "UsernameClaim is required"},
		{"no client id", func(c *sso.Config) { c.ClientID = "" }, "ClientID is required"},
		{"no redirect URL", func(c *sso.Config) { c.RedirectURL = "" }, "RedirectURL is required"},
		{"no issuer", func(c *sso.Config) { c.Issuer = "" }, "Issuer is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := op.config()
			tt.edit(&c)
			ctx := oidc.ClientContext(context.Background(), &http.Client{Timeout: 5 * time.Second})
			p, err := sso.New(ctx, c)
			if err == nil {
				t.Fatalf("New accepted %+v", c)
			}
			t.Logf("refused: %v", err)
			if p != nil {
				t.Errorf("New returned a provider with its error")
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("New error = %v, want it to mention %s", err, tt.wantMsg)
			}
			assertNoSecrets(t, err, c.ClientSecret)
		})
	}
}

func TestUnconfiguredProvider(t *testing.T) {
	var p *sso.Provider
	if _, _, err := p.Begin(); err == nil {
		t.Error("Begin on a nil provider succeeded")
	}
	if _, err := p.Finish(context.Background(), sso.Pending{}, url.Values{}); err == nil {
		t.Error("Finish on a nil provider succeeded")
	}
}
