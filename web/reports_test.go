package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/identity"
	"github.com/churnwatch/churnwatch/store"
)

// TestAPIReports: a manager or leader reads a stored report's reference
// and each of its parts by the report's ID, as the CLI does; a CSM, an
// unknown report or part, and a request without a token are refused.
func TestAPIReports(t *testing.T) {
	f := newFixture(t, defaultConfig())
	ctx := context.Background()
	register := strings.Repeat("A-1,critical,83\n", 50_000)
	rep := store.Report{ID: "report-abc", Week: "2026-11-16", Created: time.Now(), Parts: map[string][]byte{
		store.ReportSummaryJSON: []byte(`{"week":"2026-11-16"}`), store.ReportRegister: []byte(register)}}
	if err := f.st.SaveReport(ctx, rep); err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{}
	for _, name := range []string{"mia", "lee", "dana"} {
		plain, hash, _ := identity.NewToken()
		if err := f.st.AddToken(ctx, name, hash, time.Now()); err != nil {
			t.Fatal(err)
		}
		tokens[name] = plain
	}
	get := func(who, path string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
		if who != "" {
			req.Header.Set("Authorization", "Bearer "+tokens[who])
		}
		return f.browser(t).do(req)
	}

	code, body, _ := get("mia", "/api/reports/report-abc")
	var info reportInfo
	if err := json.Unmarshal([]byte(body), &info); code != http.StatusOK || err != nil || info.Week != "2026-11-16" || info.Sizes[store.ReportRegister] != len(register) {
		t.Fatalf("the manager's reference: %d %s", code, body)
	}
	code, body, h := get("lee", "/api/reports/report-abc?part=register.csv")
	if code != http.StatusOK || body != register || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
		t.Fatalf("the leader's register: %d, %d bytes, %s", code, len(body), h.Get("Content-Type"))
	}
	for _, c := range []struct {
		who, path string
		want      int
	}{
		{"dana", "/api/reports/report-abc?part=summary.json", http.StatusForbidden},
		{"", "/api/reports/report-abc", http.StatusUnauthorized},
		{"mia", "/api/reports/report-nope", http.StatusNotFound},
		{"mia", "/api/reports/report-abc?part=summary.md", http.StatusNotFound},
		{"mia", "/api/reports/report-abc?part=../../etc/passwd", http.StatusBadRequest},
	} {
		if code, body, _ := get(c.who, c.path); code != c.want || !strings.Contains(body, `"error"`) {
			t.Errorf("%s %s: %d %s, want %d", c.who, c.path, code, body, c.want)
		}
	}
}
