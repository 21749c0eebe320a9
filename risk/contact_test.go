package risk

import (
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
)

// TestAssessmentCarriesTheLatestContactEmail: the assessment carries the
// latest week's contact_email, as it does the success goal, and scores
// the same with or without it.
func TestAssessmentCarriesTheLatestContactEmail(t *testing.T) {
	var rows []snapshot.Snapshot
	for w := range 12 {
		s := snapshot.Snapshot{AccountID: "A-1", AccountName: "Acme", Owner: "dana", ARR: 50000,
			Week:   time.Date(2026, 8, 31, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 7*w),
			Logins: snapshot.Some(100 - 5*w), ActiveUsers: snapshot.Some(30)}
		rows = append(rows, s)
	}
	m := DefaultModel()
	asOf := rows[len(rows)-1].Week
	without := m.Score(rows, asOf)
	rows[9].ContactEmail, rows[10].ContactEmail = "old@acme.example", "Ana Lima <ana@acme.example>"
	with := m.Score(rows, asOf)
	if with.ContactEmail != "Ana Lima <ana@acme.example>" {
		t.Fatalf("contact email %q, want the latest week's", with.ContactEmail)
	}
	if with.Score != without.Score || with.Tier != without.Tier || len(with.Signals) != len(without.Signals) {
		t.Errorf("the contact email changed the score: %+v vs %+v", with, without)
	}
}
