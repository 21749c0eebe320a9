package backtest

import "github.com/churnwatch/churnwatch/snapshot"

// NaiveRule describes the spreadsheet rule of thumb the model is compared
// with: what a CS team without Churnwatch typically flags on.
const NaiveRule = "at risk when logins fell 30% or more week over week, OR the latest NPS is 6 or lower, OR a ticket has been open more than 30 days"

// Naive applies NaiveRule to an account history as of its last week. Its
// signal ids are naive_login_drop, naive_nps and naive_old_ticket. Unknown
// values never fire a rule.
func Naive(hist []snapshot.Snapshot) verdict {
	var v verdict
	cur := hist[len(hist)-1]
	if len(hist) >= 2 {
		prev := hist[len(hist)-2]
		if prev.Logins.Known && cur.Logins.Known && prev.Logins.V > 0 &&
			float64(cur.Logins.V) <= 0.7*float64(prev.Logins.V) {
			v.signals = append(v.signals, "naive_login_drop")
		}
	}
	if cur.NPS.Known && cur.NPS.V <= 6 {
		v.signals = append(v.signals, "naive_nps")
	}
	if cur.OldestOpenTicketDays.Known && cur.OldestOpenTicketDays.V > 30 {
		v.signals = append(v.signals, "naive_old_ticket")
	}
	v.flagged = len(v.signals) > 0
	return v
}
