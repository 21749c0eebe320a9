package web

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/churnwatch/churnwatch/identity"
	"github.com/churnwatch/churnwatch/sso"
)

// TestSingleSignOn signs in through a real OpenID Connect provider on
// loopback (mockoidc), following every redirect as a browser would: the
// provider's user is refused until they are a Churnwatch user, then lands
// in their inbox with a session.
func TestSingleSignOn(t *testing.T) {
	f := newFixture(t, defaultConfig())
	op, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = op.Shutdown() })
	cfg := op.Config()
	p, err := sso.New(context.Background(), sso.Config{
		Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		RedirectURL: f.srv.URL + "/login/sso/callback", RoleClaim: "churnwatch_role", UsernameClaim: "preferred_username",
	})
	if err != nil {
		t.Fatal(err)
	}
	f.s.SSO = p

	signIn := func() (int, string) {
		jar, _ := cookiejar.New(nil)
		hc := &http.Client{Jar: jar}
		if _, body, _ := (&browser{t, hc, f.srv.URL}).get("/login"); !strings.Contains(body, `href="/login/sso"`) {
			t.Fatalf("the sign-in page offers no single sign-on")
		}
		code, body, _ := (&browser{t, hc, f.srv.URL}).get("/login/sso")
		return code, body
	}
	// mockoidc's user is jane.doe, with no role claim: a stranger.
	if code, body := signIn(); code != http.StatusForbidden || !strings.Contains(body, "not a Churnwatch user") {
		t.Errorf("a stranger: %d\n%.500s", code, body)
	}
	if err := f.st.AddUser(context.Background(), identity.User{Name: "jane.doe", Role: identity.CSM}, ""); err != nil {
		t.Fatal(err)
	}
	code, body := signIn()
	if code != http.StatusOK || !strings.Contains(body, "jane.doe (csm)") || !strings.Contains(body, "Your queue") {
		t.Errorf("a known user: %d\n%.800s", code, body)
	}
	if err := f.st.SetUserDisabled(context.Background(), "jane.doe", true); err != nil {
		t.Fatal(err)
	}
	if code, _ := signIn(); code != http.StatusForbidden {
		t.Errorf("a disabled user signed in: %d", code)
	}
}
