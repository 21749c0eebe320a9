package risk

// HistoryWeeks is how many weeks of an account's history, counting back
// from the scored week, the model can read at most: its trend slots (never
// more than maxWindow, year-end weeks included), the same weeks a year
// before, and the contact rhythm and NPS windows. A review carries no more
// than this as evidence, so its payload does not grow with the account's age.
func (m Model) HistoryWeeks() int {
	w := m.Windows
	n := max(maxWindow, w.RhythmWeeks, w.NPSWeeks, w.EventWeeks+1)
	if w.SeasonalWeeks > 0 {
		n = max(n, w.SeasonalWeeks+maxWindow)
	}
	return n + 1
}
