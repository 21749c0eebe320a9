package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/snapshot"
)

// A 10 MB notes cell once made a review's evidence exceed Temporal's 2 MB
// payload limit: the scan reported success while that review's activity was
// retried for ever and its drafts never came. The reader now cuts the cell
// with a warning, and the review reaches its gate with the cut note.
func TestHugeNotesCellReachesTheGate(t *testing.T) {
	book := examplePath(t)
	batch, err := snapshot.ReadFiles([]string{book})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, t.TempDir())
	var flagged risk.Assessment
	for _, a := range cfg.Risk.NewReport(batch, time.Time{}).Accounts {
		if a.Tier == risk.Critical {
			flagged = a
			break
		}
	}
	if flagged.AccountID == "" {
		t.Fatal("the sample book has no critical account")
	}

	f, err := os.Open(book)
	if err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	notes, week := slices.Index(records[0], "notes"), slices.Index(records[0], "week")
	latest := -1
	for i, r := range records[1:] {
		if r[0] == flagged.AccountID && r[week] == flagged.AsOf {
			latest = i + 1
		}
	}
	if latest < 0 {
		t.Fatalf("no row of %s for %s", flagged.AccountID, flagged.AsOf)
	}
	huge := strings.Repeat("The customer pasted their whole ticket export here; ", 10<<20/52+1) + "end"
	records[latest][notes] = huge
	path := filepath.Join(t.TempDir(), "huge-notes.csv")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(out)
	if err := w.WriteAll(records); err != nil {
		t.Fatal(err)
	}
	out.Close()

	c := startWorker(t, cfg)
	res := scan(t, c, cfg, path)
	warning := "row " + strconv.Itoa(latest+1) + " notes: cut from " + strconv.Itoa(len(huge)) + " to "
	if !slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, warning) }) {
		t.Errorf("no warning %q in %q", warning, res.Warnings)
	}
	id := review.ID(flagged.AccountID, res.AsOf)
	waitFor(t, "the drafts of the review with the huge note", func() bool { return queryPacket(t, c, id).Draft != nil })
	p := queryPacket(t, c, id)
	if p.State != review.AwaitingApproval || p.Failure != "" {
		t.Fatalf("review is %s (failure %q), want awaiting_approval", p.State, p.Failure)
	}
	if !slices.ContainsFunc(p.Assessment.Notes, func(n string) bool { return strings.Contains(n, "[cut: ") && len(n) < snapshot.MaxNotesBytes+128 }) {
		t.Errorf("the review's notes do not carry the cut note: %d notes", len(p.Assessment.Notes))
	}
}
