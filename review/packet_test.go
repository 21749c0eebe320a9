package review

import (
	"slices"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/risk"
)

// packetAt is an elevated packet opened at t0 with a 48 h SLA, everything
// but the decision and its consequences filled in.
func packetAt(t0 time.Time) Packet {
	plan := []PlanStep{{Day: 0, Action: "Call the sponsor", Owner: "dana"}}
	return Packet{ReviewID: "r", AccountID: "A", Owner: "dana", Event: "crossed into elevated", Severity: risk.Elevated,
		Assessment: risk.Assessment{SLAHours: 48, Signals: []risk.Signal{{ID: "login_drop"}}},
		Draft:      &Draft{SavePlan: plan}, Escalation: Escalation{Path: []string{"dana", "lee"}},
		CreatedAt: t0}
}

func approved(p Packet, at time.Time) Packet {
	p.Decision = &Decision{Kind: Approve, Actor: "dana", At: at}
	p.Action = &Action{Owner: "dana", Plan: p.Draft.SavePlan}
	p.FollowUpDate = at.AddDate(0, 0, 14).Format(time.DateOnly)
	return p
}

func TestPacketMissing(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	hours := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	reminded := func(p Packet, at time.Time) Packet {
		p.Escalation.Level, p.Escalation.RemindedAt = 1, []time.Time{at}
		return p
	}
	rejected := func(reason, cause string) Packet {
		p := packetAt(t0)
		p.Draft = nil // a rejection needs no save plan
		p.Decision = &Decision{Kind: Reject, Actor: "dana", Reason: reason, ConfirmedCause: cause, At: hours(5)}
		return p
	}
	noSLA := approved(packetAt(t0), hours(5))
	noSLA.Assessment.SLAHours = 0

	for _, tc := range []struct {
		name string
		p    Packet
		at   time.Time
		want []string
	}{
		{"decided within the SLA: no escalation was due", approved(packetAt(t0), hours(20)), hours(400), nil},
		{"decided past the SLA, nobody chased", approved(packetAt(t0), hours(60)), hours(400), []string{"escalation"}},
		{"decided past the SLA after the reminder", reminded(approved(packetAt(t0), hours(60)), hours(49)), hours(400), nil},
		{"open, within the SLA", packetAt(t0), hours(30), []string{"decision", "follow_up_date"}},
		{"open past the SLA, never chased", packetAt(t0), hours(60), []string{"escalation", "decision", "follow_up_date"}},
		{"open past the SLA, reminded", reminded(packetAt(t0), hours(49)), hours(60), []string{"decision", "follow_up_date"}},
		{"as of before the reminder was sent", reminded(packetAt(t0), hours(49)), hours(48).Add(30 * time.Minute), []string{"escalation", "decision", "follow_up_date"}},
		{"SLA unknown: cannot show escalation was not due", noSLA, hours(400), []string{"escalation"}},
		{"rejection with reason and confirmed cause is complete", rejected("seasonal dip", "holiday shutdown"), hours(400), nil},
		{"rejection without the confirmed cause", rejected("seasonal dip", ""), hours(400), []string{"decision"}},
		{"empty packet", Packet{}, hours(1), PacketParts},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.Missing(tc.at); !slices.Equal(got, tc.want) {
				t.Errorf("Missing = %v, want %v", got, tc.want)
			}
		})
	}
}
