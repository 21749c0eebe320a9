package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/summary"
)

func runStarter(args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

// TestHelpOfEveryCommand asks every command and subcommand for its help in
// the three ways: --help, -h and `starter help`. Each must answer on stdout
// with exit 0, its synopsis, its flags and an example.
func TestHelpOfEveryCommand(t *testing.T) {
	leaves := []string{
		"score", "backtest", "calibrate", "import ravenstack", "import events", "scan", "reviews list",
		"review show", "review approve", "review reject", "review progress", "review outcome",
		"summary", "audit packets", "register", "config", "digest send",
		"users add", "users list", "users disable", "users enable", "users password", "users token",
	}
	// A command added to the table must be added here too.
	for name := range commands {
		if !slices.ContainsFunc(leaves, func(l string) bool { return strings.Fields(l)[0] == name }) {
			t.Errorf("command %q has no leaf in this test", name)
		}
	}
	for _, cmd := range leaves {
		words := strings.Fields(cmd)
		for _, args := range [][]string{slices.Concat(words, []string{"--help"}), slices.Concat(words, []string{"-h"}), slices.Concat([]string{"help"}, words)} {
			out, errOut, code := runStarter(args...)
			if code != 0 || errOut != "" {
				t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
			}
			for _, want := range []string{"usage: starter " + cmd + " ", "\nflags:\n", "--config string", "\nexamples:\n  starter " + cmd} {
				if !strings.Contains(out, want) {
					t.Errorf("%v: the help lacks %q:\n%s", args, want, out)
				}
			}
		}
	}
	for _, cmd := range []string{"import", "reviews", "review", "audit", "users"} {
		for _, args := range [][]string{{cmd, "--help"}, {cmd, "-h"}, {"help", cmd}} {
			out, errOut, code := runStarter(args...)
			if code != 0 || !strings.Contains(out, "\nsubcommands:\n  starter "+cmd+" ") || !strings.Contains(out, "\nexamples:\n  starter "+cmd) {
				t.Errorf("%v: exit %d, stderr %q, stdout:\n%s", args, code, errOut, out)
			}
		}
	}
	for name := range commands {
		if _, ok := helps[name]; !ok {
			t.Errorf("command %s has no entry in helps", name)
		}
	}
	for name, h := range helps {
		if !strings.HasPrefix(h.usage, "starter "+name) || len(h.examples) == 0 {
			t.Errorf("helps[%q]: usage %q, %d examples", name, h.usage, len(h.examples))
		}
	}
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		if out, _, code := runStarter(args...); code != 0 || !strings.Contains(out, "  users ") {
			t.Errorf("%v: exit %d, stdout:\n%s", args, code, out)
		}
	}
}

func TestScanHelpListsInput(t *testing.T) {
	out, errOut, code := runStarter("scan", "--help")
	if code != 0 || !strings.Contains(out, "--input stringArray") || strings.Contains(out+errOut, "pflag") {
		t.Errorf("scan --help: exit %d, stdout:\n%s\nstderr: %s", code, out, errOut)
	}
}

// TestUnknownFlagListsTheValidOnes: exit 2, the error first, then the
// flags the command takes.
func TestUnknownFlagListsTheValidOnes(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"scan", "--inptu", "x.csv"}, []string{"starter scan: unknown flag: --inptu", "--input stringArray", "--as-of string"}},
		{[]string{"review", "show", "review/A-1/2026-11-16", "--jsn"}, []string{"unknown flag: --jsn", "flags of starter review show:", "--json"}},
		{[]string{"users", "add", "kim", "--rol", "csm"}, []string{"unknown flag: --rol", "--role string", "--sso-only"}},
	} {
		out, errOut, code := runStarter(c.args...)
		if code != 2 || out != "" {
			t.Errorf("%v: exit %d, stdout %q; want exit 2 and nothing on stdout", c.args, code, out)
		}
		for _, w := range c.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", c.args, w, errOut)
			}
		}
	}
	if _, errOut, code := runStarter("scna"); code != 2 || !strings.Contains(errOut, `unknown command "scna"`) || !strings.Contains(errOut, "  scan ") {
		t.Errorf("unknown command: exit %d, stderr:\n%s", code, errOut)
	}
}

func TestVersion(t *testing.T) {
	out, errOut, code := runStarter("--version")
	if code != 0 || !strings.HasPrefix(out, "starter version ") || !strings.Contains(out, risk.ModelVersion) || !strings.Contains(out, "commit ") {
		t.Errorf("--version: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestPrintAudit(t *testing.T) {
	var out bytes.Buffer
	err := printAudit(&out, "2026-11-16", []summary.AuditPacket{
		{ReviewID: "review/A-1/2026-11-16", AccountID: "A-1", Tier: risk.Critical, Owner: "dana", Missing: []string{"decision", "follow_up_date"}},
		{AccountID: "A-2", Tier: risk.Elevated, Missing: review.PacketParts},
		{ReviewID: "review/A-3/2026-11-16", AccountID: "A-3", Tier: risk.Elevated, Owner: "marco", Missing: []string{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := [][]string{
		{"REVIEW", "ACCOUNT", "TIER", "OWNER", "MISSING"},
		{"review/A-1/2026-11-16", "A-1", "critical", "dana", "decision, follow_up_date"},
		{"-", "A-2", "elevated", "-", strings.Join(review.PacketParts, ", ")},
		{"review/A-3/2026-11-16", "A-3", "elevated", "marco", "none (complete)"},
	}
	if len(lines) != 2+len(want) || !strings.Contains(lines[0], "week of 2026-11-16: 3") {
		t.Fatalf("audit table:\n%s", out.String())
	}
	for i, cells := range want {
		if got := strings.Fields(lines[2+i]); !strings.HasPrefix(strings.Join(got, " "), strings.Join(cells[:4], " ")) || !strings.HasSuffix(lines[2+i], cells[4]) {
			t.Errorf("line %d %q, want %q", i, lines[2+i], cells)
		}
	}
}
