package main

import (
	"os"
	"strings"
	"testing"
)

// TestEveryCommandIsDocumented keeps docs/cli.md in step with the help
// table: every command and subcommand is named there.
func TestEveryCommandIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	for name := range helps {
		if !strings.Contains(string(doc), "starter "+name) {
			t.Errorf("docs/cli.md does not document `starter %s`", name)
		}
	}
}
