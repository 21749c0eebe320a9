package activities

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/churnwatch/churnwatch/draft"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/workflows"
)

// TestDraftErrorsKeepTheKeyOutOfHistory drafts through an OpenAI-protocol
// endpoint on loopback whose errors quote the request's Authorization
// header, and checks what Temporal would keep of the activity (its error,
// converted as the SDK converts it with every cause, or its result) for
// the key.
func TestDraftErrorsKeepTheKeyOutOfHistory(t *testing.T) {
	const key = "sk-live-ABCDEFGH12345678"
	for _, status := range []int{http.StatusInternalServerError, http.StatusUnauthorized} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				fmt.Fprintf(w, `{"error":{"message":"refused %s","type":"invalid_request_error"}}`, r.Header.Get("Authorization"))
			}))
			defer srv.Close()
			o, err := draft.NewOpenAI(draft.OpenAIConfig{BaseURL: srv.URL + "/v1", APIKey: key, Model: "gpt-4o-mini", Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			a, env := newActivities(t)
			a.LLM = draft.NewGuarded(o, a.Offline, draft.Policy{})
			res := ingest(t, env, book(t))
			ev := execute[workflows.Evidence](t, env, "GatherEvidence", workflows.EvidenceRequest{AccountID: "A-1001", AsOf: res.AsOf})
			as := execute[risk.Assessment](t, env, "ScoreAccount", ev)

			v, err := env.ExecuteActivity("Draft", workflows.DraftRequest{ReviewID: "r", Owner: "dana", Assessment: as})
			kept := ""
			if err != nil {
				kept = temporal.GetDefaultFailureConverter().ErrorToFailure(err).String()
			} else {
				var d review.Draft
				if err := v.Get(&d); err != nil {
					t.Fatal(err)
				}
				kept = fmt.Sprintf("%+v", d)
			}
			if !strings.Contains(kept, "REDACTED") || strings.Contains(kept, "ABCDEFGH") {
				t.Errorf("what history keeps of the call: %s\nwant the key scrubbed", kept)
			}
		})
	}
}
