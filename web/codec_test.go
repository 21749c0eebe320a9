package web

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/churnwatch/churnwatch/codec"
	"github.com/churnwatch/churnwatch/identity"
)

const uiOrigin = "http://127.0.0.1:8233"

// lockedBuffer collects log lines written from the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// codecCall posts payloads to /codec/{op} from origin ("" sends none).
func (b *browser) codecCall(op, origin string, payloads []*commonpb.Payload) (int, string, http.Header) {
	b.t.Helper()
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: payloads})
	if err != nil {
		b.t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", b.base+"/codec/"+op, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Namespace", "default")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return b.do(req)
}

// TestCodecForTheWebUI serves the payload codec as the Temporal Web UI
// calls it: a leader's or admin's session decodes a sealed note; a CSM,
// no session, another origin or a form post are refused; the browser's
// preflight is answered for the UI's origins only.
func TestCodecForTheWebUI(t *testing.T) {
	c, err := codec.New("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	cfg := defaultConfig()
	cfg.UIPort = 8233
	f := newFixture(t, cfg, func(s *Server) {
		s.Codec = c
		s.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	hash, _ := identity.HashPassword(password)
	if err := f.st.AddUser(context.Background(), identity.User{Name: "ada", Role: identity.Admin}, hash); err != nil {
		t.Fatal(err)
	}
	plain, err := converter.GetDefaultDataConverter().ToPayload("customer note: the new finance lead prefers a rival")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := c.Encode([]*commonpb.Payload{plain})
	if err != nil {
		t.Fatal(err)
	}

	for _, who := range []struct{ name, origin string }{{"lee", uiOrigin}, {"ada", "http://localhost:8233"}} {
		b := f.browser(t)
		b.signIn(who.name)
		code, body, h := b.codecCall("decode", who.origin, sealed)
		if code != http.StatusOK {
			t.Fatalf("%s decodes: %d %s", who.name, code, body)
		}
		var got commonpb.Payloads
		if err := protojson.Unmarshal([]byte(body), &got); err != nil || len(got.Payloads) != 1 || !bytes.Equal(got.Payloads[0].GetData(), plain.GetData()) {
			t.Errorf("%s decoded %s (%v)", who.name, body, err)
		}
		if h.Get("Access-Control-Allow-Origin") != who.origin || h.Get("Access-Control-Allow-Credentials") != "true" {
			t.Errorf("%s: CORS headers %v", who.name, h)
		}
		if !strings.Contains(logs.String(), "msg=\"payload codec\" user="+who.name+" op=decode") {
			t.Errorf("no log line of %s's decode:\n%s", who.name, logs.String())
		}
	}

	lee := f.browser(t)
	leeCSRF := lee.signIn("lee")
	dana := f.browser(t)
	dana.signIn("dana")
	for _, tc := range []struct {
		name   string
		b      *browser
		origin string
		want   int
	}{
		{"a CSM", dana, uiOrigin, http.StatusForbidden},
		{"no session", f.browser(t), uiOrigin, http.StatusUnauthorized},
		{"another origin", lee, "http://evil.example", http.StatusForbidden},
		{"another port of this host", lee, "http://127.0.0.1:9999", http.StatusForbidden},
		{"no origin", lee, "", http.StatusForbidden},
	} {
		code, body, h := tc.b.codecCall("decode", tc.origin, sealed)
		if code != tc.want || !strings.HasPrefix(h.Get("Content-Type"), "application/json") || strings.Contains(body, "finance lead") {
			t.Errorf("%s: %d %s %s, want %d JSON", tc.name, code, h.Get("Content-Type"), body, tc.want)
		}
	}
	// A form post with the session's token is still no way in without the
	// UI's origin.
	code, _, _ := lee.post("/codec/decode", map[string][]string{"csrf_token": {leeCSRF}})
	if code != http.StatusForbidden {
		t.Errorf("form post to the codec: %d", code)
	}

	for _, tc := range []struct {
		origin string
		want   int
	}{{uiOrigin, http.StatusNoContent}, {"http://evil.example", http.StatusForbidden}} {
		req, _ := http.NewRequest("OPTIONS", f.srv.URL+"/codec/decode", nil)
		req.Header.Set("Origin", tc.origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type,x-namespace")
		code, _, h := f.browser(t).do(req)
		allowed := h.Get("Access-Control-Allow-Origin")
		if code != tc.want || (tc.want == http.StatusNoContent) != (allowed == tc.origin) || (allowed != "" && allowed != tc.origin) {
			t.Errorf("preflight from %s: %d, allow-origin %q", tc.origin, code, allowed)
		}
		if tc.want == http.StatusNoContent && (!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "Content-Type")) {
			t.Errorf("preflight headers %v", h)
		}
	}
}

// TestCodecOffWithoutKey checks that no codec is served without a key,
// even to a leader from the UI's origin.
func TestCodecOffWithoutKey(t *testing.T) {
	cfg := defaultConfig()
	cfg.UIPort = 8233
	b := newFixture(t, cfg).browser(t)
	b.signIn("lee")
	if code, body, _ := b.codecCall("decode", uiOrigin, nil); code == http.StatusOK {
		t.Errorf("codec served without a key: %d %s", code, body)
	}
}
