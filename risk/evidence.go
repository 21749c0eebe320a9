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
	// optional fields (the columns beyond v1) are listed as missing or
	// stale only for an account that reported them within the recent
	// window (or, when some v1 field is missing there, the lookback), and
	// that still reports one of them within stale_weeks: a book without
	// the columns lacks nothing it ever had.
	optional bool
}

type fieldWindow int

const (
	inRecent   fieldWindow = iota // windows.recent_weeks
	inEvent                       // windows.event_weeks
	inLookback                    // recent + baseline weeks
	inNPS                         // windows.nps_weeks
)

// wantedFields are in the contract's field order, which Missing keeps,
// then the optional columns. knownMask sets their bits.
var wantedFields = [...]wantedField{
	{"renewal_date", "", inLookback, false},
	{"logins", DimUsage, inRecent, false},
	{"active_users", DimUsage, inRecent, false},
	{"licensed_seats", "", inRecent, false},
	{"dau_mau", DimUsage, inRecent, false},
	{"feature_adoption", DimUsage, inRecent, false},
	{"open_tickets", DimSupport, inRecent, false},
	{"critical_open_tickets", DimSupport, inRecent, false},
	{"oldest_open_ticket_days", DimSupport, inRecent, false},
	{"escalations", DimSupport, inEvent, false},
	{"integration_errors", DimSupport, inRecent, false},
	{"users_deactivated", DimRelationship, inEvent, false},
	{"champion_departed", DimRelationship, inEvent, false},
	{"last_exec_contact", DimRelationship, inRecent, false},
	{"last_csm_meeting", DimRelationship, inRecent, false},
	{"nps", DimRelationship, inNPS, false},
	{"overdue_invoice_days", DimCommercial, inRecent, false},
	{"downgrade_requested", DimCommercial, inEvent, false},
	{"goal_status", DimOutcome, inRecent, false},
	{"tickets_opened", DimSupport, inRecent, true},
	{"last_login_date", DimUsage, inRecent, true},
	{"nps_survey_sent", DimRelationship, inRecent, true},
	{"meetings_missed", DimRelationship, inEvent, true},
}

// knownMask has a bit for each wanted field r knows, in wantedFields
// order. It is written out rather than looped: every account's rows go
// through it.
func knownMask(r *snapshot.Snapshot) uint32 {
	return bit(r.RenewalDate.Known, 0) | bit(r.Logins.Known, 1) | bit(r.ActiveUsers.Known, 2) |
		bit(r.LicensedSeats.Known, 3) | bit(r.DAUMAU.Known, 4) | bit(r.FeatureAdoption.Known, 5) |
		bit(r.OpenTickets.Known, 6) | bit(r.CriticalOpenTickets.Known, 7) | bit(r.OldestOpenTicketDays.Known, 8) |
		bit(r.Escalations.Known, 9) | bit(r.IntegrationErrors.Known, 10) | bit(r.UsersDeactivated.Known, 11) |
		bit(r.ChampionDeparted.Known, 12) | bit(r.LastExecContact.Known, 13) | bit(r.LastCSMMeeting.Known, 14) |
		bit(r.NPS.Known, npsBit) | bit(r.OverdueInvoiceDays.Known, 16) | bit(r.DowngradeRequested.Known, 17) |
		bit(r.GoalStatus != "", 18) | optionalMask(r)
}

// optionalMask is knownMask of the optional columns alone.
func optionalMask(r *snapshot.Snapshot) uint32 {
	return bit(r.TicketsOpened.Known, bitTicketsOpened) | bit(r.LastLoginDate.Known, bitLastLoginDate) |
		bit(r.NPSSurveySent.Known, bitNPSSurveySent) | bit(r.MeetingsMissed.Known, bitMeetingsMissed)
}

// slotBits are the wanted fields read in the week slots (all but nps);
// v1SlotBits those of them that are not optional.
var slotBits, v1SlotBits = func() (all, v1 uint32) {
	for i, f := range wantedFields {
		if f.window != inNPS {
			all |= 1 << i
			if !f.optional {
				v1 |= 1 << i
			}
		}
	}
	return all, v1
}()

func bit(known bool, i int) uint32 {
	if known {
		return 1 << i
	}
	return 0
}

// WantedFields lists the snapshot fields the model reads, in contract order
// (the optional columns last).
func WantedFields() []string {
	out := make([]string, len(wantedFields))
	for i, f := range wantedFields {
		out[i] = f.name
	}
	return out
}

// Bits of the optional columns in wantedFields.
const (
	bitTicketsOpened  = 19
	bitLastLoginDate  = 20
	bitNPSSurveySent  = 21
	bitMeetingsMissed = 22
)

// npsBit is the bit of nps, read over windows.nps_weeks rather than the
// week slots: an answer is an event, never stale.
const npsBit = 15

// Stale data
//
// A feed that breaks leaves an account's latest rows empty, or leaves no
// rows at all; a column that stops coming leaves one field empty. Either
// way the value last reported is not this week's value: reading it as if
// current (the ticket count of a month ago, the invoice as it stood then)
// is carrying it forward, and an account whose feed broke would keep
// scoring healthy. So a field unknown in the latest windows.stale_weeks
// weeks, though reported before them, is stale: listed in missing with
// the weeks since it was last reported, unknown to the evidence rule, and
// not read (sc.pit bounds every point-in-time read). When the latest
// week's row is missing or empty, every field is stale at once. Events
// (escalations, deactivations, an NPS answer) and trends read the weeks
// that were reported, each with its date, and still count.

// computeKnown sets a bit for each wanted field known within its window
// and not stale, records the stale ones, and bounds point-in-time reads.
func (sc *scorer) computeKnown() {
	w := sc.m.Windows
	limits := [...]int{inRecent: w.RecentWeeks, inEvent: w.EventWeeks, inLookback: w.RecentWeeks + w.BaselineWeeks}
	var first [len(wantedFields)]int8 // the newest week slot reporting each field
	seen, leading, empty := uint32(0), true, 0
	for k := 0; k < sc.nslots && seen != slotBits; k++ {
		var m uint32
		if r := sc.row(k); r != nil {
			if seen&v1SlotBits == v1SlotBits {
				// The usual account: only the optional columns are left to
				// look for, in the recent window, and past the latest
				// stale_weeks only for an account that reports one of them:
				// a book without them would otherwise have a cold part of
				// every row read for nothing (a tenth of scoring's time).
				if k >= w.RecentWeeks || (k >= max(w.StaleWeeks, 1) && seen&^v1SlotBits == 0) {
					break
				}
				m = optionalMask(r)
			} else {
				m = knownMask(r) &^ (1 << npsBit)
			}
		}
		if leading && m == 0 {
			empty++
		} else {
			leading = false
		}
		for nb := m &^ seen; nb != 0; nb &= nb - 1 {
			first[bits.TrailingZeros32(nb)] = int8(k)
		}
		seen |= m
	}
	staleFrom := maxWindow // slots from here on are stale
	if w.StaleWeeks > 0 {
		staleFrom = w.StaleWeeks
	}
	if empty > 0 && seen != 0 {
		staleFrom = 0 // a broken feed: nothing it reported is current
	}
	sc.pit = min(w.RecentWeeks, staleFrom)
	sc.seen = seen
	for nb := seen; nb != 0; nb &= nb - 1 {
		i := bits.TrailingZeros32(nb)
		switch k := int(first[i]); {
		case k >= staleFrom:
			sc.stale[i] = int8(k)
		case k < limits[wantedFields[i].window]:
			sc.known |= 1 << i
		}
	}
	// NPS is asked rarely; its window reaches past the week slots.
	oldest := sc.asOfDay - int64(7*(w.NPSWeeks-1))
	for i := sc.end; i >= 0 && dayNumber(sc.at(i).Week) >= oldest; i-- {
		if sc.at(i).NPS.Known {
			sc.known |= 1 << npsBit
			break
		}
	}
}

// missing lists the wanted fields not known in their windows and, for the
// stale ones among them, the weeks since each was last reported. An
// optional field the account never reported is not listed.
func (sc *scorer) missing() ([]string, map[string]int) {
	want := uint32(1)<<len(wantedFields) - 1
	want &^= slotBits &^ v1SlotBits &^ sc.seen // the optional fields not reported
	n := bits.OnesCount32(want &^ sc.known)
	if n == 0 {
		return []string{}, nil // listed as [], and no allocation for the usual account
	}
	out := make([]string, 0, n)
	var stale map[string]int
	for i := range wantedFields {
		if want&^sc.known&(1<<i) == 0 {
			continue
		}
		name := wantedFields[i].name
		if k := sc.stale[i]; k > 0 {
			if stale == nil {
				stale = map[string]int{}
			}
			stale[name] = int(k)
		}
		out = append(out, name)
	}
	return out, stale
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
