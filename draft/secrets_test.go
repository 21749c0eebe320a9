package draft

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const leakyKey = "sk-live-ABCDEFGH12345678"

// echoingLLM is an OpenAI-protocol endpoint on loopback that answers every
// call with an error quoting the request's Authorization header, as some
// proxies and gateways do.
func echoingLLM(t *testing.T, status int) *OpenAI {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"message":"upstream refused: key %s, header Authorization: %s","type":"invalid_request_error","code":"invalid_api_key"}}`,
			strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), r.Header.Get("Authorization"))
	}))
	t.Cleanup(srv.Close)
	o, err := NewOpenAI(OpenAIConfig{BaseURL: srv.URL + "/v1", APIKey: leakyKey, Model: "gpt-4o-mini", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestLLMErrorsNeverCarryTheKey(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusInternalServerError} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			o := echoingLLM(t, status)
			_, err := o.Draft(context.Background(), enRequest(t))
			if err == nil {
				t.Fatal("no error")
			}
			if msg := err.Error(); strings.Contains(msg, leakyKey) || strings.Contains(msg, "ABCDEFGH") || !strings.Contains(msg, "[REDACTED]") {
				t.Errorf("error %q: want the key scrubbed", msg)
			}
			// The fallback draft names the reason; that is kept too.
			d := NewGuarded(o, NewOffline(), Policy{}).Fallback(context.Background(), enRequest(t), err)
			if notes := strings.Join(d.Notes, " "); strings.Contains(notes, "ABCDEFGH") {
				t.Errorf("fallback notes %q carry the key", notes)
			}
		})
	}
}

func TestScrubSecrets(t *testing.T) {
	for in, want := range map[string]string{
		"Authorization: Bearer abc.def-ghi":  "Authorization: [REDACTED] [REDACTED]",
		`{"api_key":"k-123456"} and more`:    `{"api_key":"[REDACTED]"} and more`,
		"bad key sk-proj-aaaaaaaaaaaa here":  "bad key [REDACTED] here",
		"the secret s3cr3t-value was echoed": "the secret [REDACTED] was echoed",
		"status 500: upstream timeout":       "status 500: upstream timeout",
	} {
		if got := ScrubSecrets(in, "s3cr3t-value"); got != want {
			t.Errorf("ScrubSecrets(%q) = %q, want %q", in, got, want)
		}
	}
}
