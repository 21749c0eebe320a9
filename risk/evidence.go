package risk

import (
	"math/bits"

	"github.com/churnwatch/churnwatch/snapshot"
)

// wantedField is a snapshot field the model reads, with the window it must
// be known in and the dimension it lets the model observe.
type wantedField struct {
	name      string
	dimension string // "" when it observes no dimension (renewal_date feeds priority)
	window    fieldWindow
	known     func(*snapshot.Snapshot) bool
}

type fieldWindow int

const (
	inRecent   fieldWindow = iota // windows.recent_weeks
	inEvent                       // windows.event_weeks
	inLookback                    // recent + baseline weeks
	inNPS                         // windows.nps_weeks
)

// wantedFields are in the contract's field order, which Missing keeps.
var wantedFields = [...]wantedField{
	{"renewal_date", "", inLookback, func(s *snapshot.Snapshot) bool { return s.RenewalDate.Known }},
	{"logins", DimUsage, inRecent, func(s *snapshot.Snapshot) bool { return s.Logins.Known }},
	{"active_users", DimUsage, inRecent, func(s *snapshot.Snapshot) bool { return s.ActiveUsers.Known }},
	{"licensed_seats", "", inRecent, func(s *snapshot.Snapshot) bool { return s.LicensedSeats.Known }},
	{"dau_mau", DimUsage, inRecent, func(s *snapshot.Snapshot) bool { return s.DAUMAU.Known }},
	{"feature_adoption", DimUsage, inRecent, func(s *snapshot.Snapshot) bool { return s.FeatureAdoption.Known }},
	{"open_tickets", DimSupport, inRecent, func(s *snapshot.Snapshot) bool { return s.OpenTickets.Known }},
	{"critical_open_tickets", DimSupport, inRecent, func(s *snapshot.Snapshot) bool { return s.CriticalOpenTickets.Known }},
	{"oldest_open_ticket_days", DimSupport, inRecent, func(s *snapshot.Snapshot) bool { return s.OldestOpenTicketDays.Known }},
	{"escalations", DimSupport, inEvent, func(s *snapshot.Snapshot) bool { return s.Escalations.Known }},
	{"integration_errors", DimSupport, inRecent, func(s *snapshot.Snapshot) bool { return s.IntegrationErrors.Known }},
	{"users_deactivated", DimRelationship, inEvent, func(s *snapshot.Snapshot) bool { return s.UsersDeactivated.Known }},
	{"champion_departed", DimRelationship, inEvent, func(s *snapshot.Snapshot) bool { return s.ChampionDeparted.Known }},
	{"last_exec_contact", DimRelationship, inRecent, func(s *snapshot.Snapshot) bool { return s.LastExecContact.Known }},
	{"last_csm_meeting", DimRelationship, inRecent, func(s *snapshot.Snapshot) bool { return s.LastCSMMeeting.Known }},
	{"nps", DimRelationship, inNPS, func(s *snapshot.Snapshot) bool { return s.NPS.Known }},
	{"overdue_invoice_days", DimCommercial, inRecent, func(s *snapshot.Snapshot) bool { return s.OverdueInvoiceDays.Known }},
	{"downgrade_requested", DimCommercial, inEvent, func(s *snapshot.Snapshot) bool { return s.DowngradeRequested.Known }},
	{"goal_status", DimOutcome, inRecent, func(s *snapshot.Snapshot) bool { return s.GoalStatus != "" }},
}

// WantedFields lists the snapshot fields the model reads, in contract order.
func WantedFields() []string {
	out := make([]string, len(wantedFields))
	for i, f := range wantedFields {
		out[i] = f.name
	}
	return out
}

// slotFields has a bit for each wanted field read in the week slots (all
// but NPS): once all are known, the rest of the slots can tell nothing new.
var slotFields = func() (m uint32) {
	for i, f := range wantedFields {
		if f.window != inNPS {
			m |= 1 << i
		}
	}
	return m
}()

// computeKnown sets a bit for each wanted field known within its window.
func (sc *scorer) computeKnown() {
	w := sc.m.Windows
	limits := [...]int{inRecent: w.RecentWeeks, inEvent: w.EventWeeks, inLookback: w.RecentWeeks + w.BaselineWeeks}
	for k := 0; k < sc.nslots && sc.known&slotFields != slotFields; k++ {
		r := sc.row(k)
		if r == nil {
			continue
		}
		for i := range wantedFields {
			f := &wantedFields[i]
			if f.window == inNPS || sc.known&(1<<i) != 0 || k >= limits[f.window] {
				continue
			}
			if f.known(r) {
				sc.known |= 1 << i
			}
		}
	}
	// NPS is asked rarely; its window reaches past the week slots.
	oldest := sc.asOfDay - int64(7*(w.NPSWeeks-1))
	for i := sc.end; i >= 0 && dayNumber(sc.at(i).Week) >= oldest; i-- {
		if sc.at(i).NPS.Known {
			for j := range wantedFields {
				if wantedFields[j].window == inNPS {
					sc.known |= 1 << j
				}
			}
			break
		}
	}
}

// missing lists the wanted fields not known in their windows.
func (sc *scorer) missing() []string {
	n := bits.OnesCount32(^sc.known & (1<<len(wantedFields) - 1))
	if n == 0 {
		return []string{} // listed as [], and no allocation for the usual account
	}
	out := make([]string, 0, n)
	for i := range wantedFields {
		if sc.known&(1<<i) == 0 {
			out = append(out, wantedFields[i].name)
		}
	}
	return out
}

// enoughEvidence holds when a usage field is known in the recent window and
// at least evidence.min_dimensions dimensions have a known field.
func (sc *scorer) enoughEvidence() bool {
	var observed [len(dimensionNames)]bool
	for i := range wantedFields {
		if sc.known&(1<<i) != 0 && wantedFields[i].dimension != "" {
			observed[dimensionIndex(wantedFields[i].dimension)] = true
		}
	}
	n := 0
	for _, o := range observed {
		if o {
			n++
		}
	}
	return observed[dimensionIndex(DimUsage)] && n >= sc.m.Evidence.MinDimensions
}
