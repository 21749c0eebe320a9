package snapshot

import (
	"os"
	"strings"
	"testing"
)

// TestEveryFieldIsDocumented keeps docs/snapshots.md in step with the
// reader: every column it reads is described there.
func TestEveryFieldIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/snapshots.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range Fields {
		if !strings.Contains(string(doc), "| `"+f+"` |") {
			t.Errorf("docs/snapshots.md does not describe the column %s", f)
		}
	}
}
