package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestScoreCommandJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"score", "--input", "../examples/portfolio.csv", "--input", "../examples/bad_rows.csv", "--json"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var got struct {
		AsOf     string `json:"as_of"`
		Accounts []struct {
			AccountID string `json:"account_id"`
			Tier      string `json:"tier"`
			Priority  int    `json:"priority"`
			Score     int    `json:"score"`
			Signals   []struct {
				ID       string `json:"id"`
				Evidence struct {
					Field string   `json:"field"`
					Weeks []string `json:"weeks"`
				} `json:"evidence"`
			} `json:"signals"`
			Missing []string `json:"missing"`
		} `json:"accounts"`
		Rejected []struct {
			File   string `json:"file"`
			Row    int    `json:"row"`
			Field  string `json:"field"`
			Reason string `json:"reason"`
		} `json:"rejected"`
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if got.AsOf == "" || len(got.Accounts) == 0 || len(got.Rejected) == 0 || got.Warnings == nil {
		t.Fatalf("as_of %q, %d accounts, %d rejected", got.AsOf, len(got.Accounts), len(got.Rejected))
	}
	for i, a := range got.Accounts {
		if a.Priority != i+1 || a.Missing == nil || a.Score < 0 || a.Score > 100 {
			t.Errorf("account %d: %+v", i, a)
		}
		for _, s := range a.Signals {
			if s.Evidence.Field == "" || len(s.Evidence.Weeks) == 0 {
				t.Errorf("%s: signal %s lacks evidence", a.AccountID, s.ID)
			}
		}
	}
	for _, r := range got.Rejected {
		if !strings.HasSuffix(r.File, "bad_rows.csv") || r.Row < 2 || r.Field == "" || r.Reason == "" {
			t.Errorf("rejection %+v", r)
		}
	}
}

func TestScoreCommandTableAndFailures(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"score", "--input", "../examples/portfolio.csv", "--as-of", "2026-11-09"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "Risk as of 2026-11-09") {
		t.Errorf("table:\n%s", out.String())
	}

	dir := t.TempDir()
	allBad := filepath.Join(dir, "bad.csv")
	os.WriteFile(allBad, []byte("account_id,account_name,week,owner,arr\nA,N,2026-11-16,d,-1\n"), 0o644)
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"score", "--input", allBad, "--json"}, 1, "no account could be scored"},
		{[]string{"score", "--input", filepath.Join(dir, "missing.csv")}, 1, "missing.csv"},
		{[]string{"score"}, 2, "--input"},
		{[]string{"score", "--input", allBad, "--as-of", "16/11/2026"}, 2, "--as-of"},
	} {
		out.Reset()
		errOut.Reset()
		if code := run(c.args, &out, &errOut); code != c.code || !strings.Contains(errOut.String(), c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errOut.String(), c.code, c.msg)
		}
	}
}
