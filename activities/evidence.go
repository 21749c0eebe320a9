package activities

import (
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/snapshot"
)

// evidenceNotes is how many of the newest notes a review's evidence keeps:
// at least the few the model quotes in an assessment.
const evidenceNotes = 4

// boundEvidence bounds what a review carries through Temporal, whose
// payload limit (2 MB) an account's whole history can pass: the weeks the
// model can read (rows is oldest first, one row a week), the newest few
// notes, free text cut as the reader cuts it (rows stored before it did),
// and no unknown columns, which the model never reads. The assessment is
// the same as from the whole history.
func boundEvidence(rows []snapshot.Snapshot, m risk.Model) []snapshot.Snapshot {
	if n := m.HistoryWeeks(); len(rows) > n {
		rows = rows[len(rows)-n:]
	}
	notes := 0
	for i := len(rows) - 1; i >= 0; i-- {
		s := &rows[i]
		s.Extra = nil
		s.SuccessGoal = snapshot.CutText(s.SuccessGoal, snapshot.MaxGoalBytes)
		if s.Notes == "" {
			continue
		}
		if notes++; notes > evidenceNotes {
			s.Notes = ""
			continue
		}
		s.Notes = snapshot.CutText(s.Notes, snapshot.MaxNotesBytes)
	}
	return rows
}

// boundAssessment cuts the free text of an assessment stored before the
// reader cut long cells. A note is quoted with its date, and a cut one
// ends with the reader's marker: room is left for both.
func boundAssessment(a *risk.Assessment) {
	const room = 64
	a.SuccessGoal = snapshot.CutText(a.SuccessGoal, snapshot.MaxGoalBytes+room)
	for i, n := range a.Notes {
		a.Notes[i] = snapshot.CutText(n, snapshot.MaxNotesBytes+room)
	}
}
