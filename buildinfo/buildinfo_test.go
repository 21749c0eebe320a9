package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/churnwatch/churnwatch/risk"
)

func TestString(t *testing.T) {
	s := String("starter")
	if !strings.HasPrefix(s, "starter version ") || !strings.Contains(s, "risk model "+risk.ModelVersion) || !strings.Contains(s, ", commit ") {
		t.Errorf("String = %q", s)
	}
	defer func(c string) { commit = c }(commit)
	commit = "abc123"
	if s := String("worker"); !strings.Contains(s, "commit abc123,") {
		t.Errorf("with a linked-in commit: %q", s)
	}
}

func TestVCSRevision(t *testing.T) {
	for _, c := range []struct {
		settings []debug.BuildSetting
		want     string
	}{
		{nil, ""},
		{[]debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "false"}}, "abc"},
		{[]debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "true"}}, "abc-dirty"},
	} {
		if got := vcsRevision(c.settings); got != c.want {
			t.Errorf("vcsRevision(%v) = %q, want %q", c.settings, got, c.want)
		}
	}
}
