package activities

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/snapshot"
)

// sixYears is an account's weekly history, oldest first, with a slide in
// usage and a note every week.
func sixYears(note func(i int) string) []snapshot.Snapshot {
	start := time.Date(2020, 11, 16, 0, 0, 0, 0, time.UTC)
	rows := make([]snapshot.Snapshot, 6*52)
	for i := range rows {
		logins := 120
		if i > len(rows)-4 {
			logins = 60
		}
		rows[i] = snapshot.Snapshot{
			AccountID: "A-1", AccountName: "Northwind", Owner: "dana", ARR: 120000,
			Week:   start.AddDate(0, 0, 7*i),
			Logins: snapshot.Some(logins + i%7), ActiveUsers: snapshot.Some(40), LicensedSeats: snapshot.Some(50),
			LastCSMMeeting: snapshot.Some(start.AddDate(0, 0, 7*(i-i%5))),
			SuccessGoal:    "roll out to the EU team", Notes: note(i),
			Extra: map[string]string{"crm_id": strconv.Itoa(i)},
		}
	}
	return rows
}

func TestBoundEvidenceScoresAsTheWholeHistory(t *testing.T) {
	m := risk.DefaultModel()
	whole := sixYears(func(i int) string { return "week " + strconv.Itoa(i) })
	asOf := whole[len(whole)-1].Week
	want := m.Score(whole, asOf)
	bounded := boundEvidence(sixYears(func(i int) string { return "week " + strconv.Itoa(i) }), m)
	if len(bounded) > m.HistoryWeeks() || len(bounded) >= len(whole) {
		t.Fatalf("kept %d of %d weeks, want at most %d", len(bounded), len(whole), m.HistoryWeeks())
	}
	if got := m.Score(bounded, asOf); !reflect.DeepEqual(got, want) {
		t.Errorf("the bounded evidence scores\n%+v\nthe whole history\n%+v", got, want)
	}
	notes := 0
	for _, s := range bounded {
		if s.Notes != "" {
			notes++
		}
		if s.Extra != nil {
			t.Errorf("week %s keeps unknown columns", s.Week)
		}
	}
	if notes != evidenceNotes || bounded[len(bounded)-1].Notes == "" {
		t.Errorf("kept %d notes, want the newest %d", notes, evidenceNotes)
	}
}

// Rows stored before the reader cut long cells are cut on the way out.
func TestBoundEvidenceCutsStoredFreeText(t *testing.T) {
	huge := strings.Repeat("n", 10<<20)
	rows := boundEvidence(sixYears(func(int) string { return huge }), risk.DefaultModel())
	size := 0
	for _, s := range rows {
		size += len(s.Notes) + len(s.SuccessGoal)
		if len(s.Notes) > snapshot.MaxNotesBytes+64 {
			t.Fatalf("week %s keeps %d bytes of notes", s.Week, len(s.Notes))
		}
	}
	if size > 64<<10 {
		t.Errorf("the evidence carries %d bytes of free text", size)
	}
	a := risk.Assessment{Notes: []string{"2026-11-16: " + huge}}
	boundAssessment(&a)
	if len(a.Notes[0]) > snapshot.MaxNotesBytes+128 || !strings.HasSuffix(a.Notes[0], "[cut: 10,485,772 bytes]") {
		t.Errorf("assessment note of %d bytes not cut", len(a.Notes[0]))
	}
}
