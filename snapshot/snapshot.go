// Package snapshot holds the weekly account snapshot, the unit of input to
// Churnwatch (see docs/snapshots.md), and reads it from CSV and
// JSON.
//
// Beyond the contract's v1 fields the format takes optional columns, each
// empty (unknown) when absent, so that every v1 file reads the same:
//
//	strategic        boolean       a strategic account: raises priority, not risk
//	language         string        the customer's language for outreach (BCP 47)
//	tickets_opened   integer >= 0  support tickets opened during the week
//	last_login_date  date          the latest login by any of the account's users
//	nps_survey_sent  date          when the latest NPS survey was sent to the account;
//	                               an answer is an nps value in that week or a later one
//	meetings_missed  integer >= 0  meetings the customer missed or cancelled during the week
//	contact_email    string        the customer contact an approved outreach may be sent to;
//	                               never read by the model, never given to the LLM
//
// A column of a file is matched to these names as to the v1 ones; a column
// the format does not know is kept with the row (Snapshot.Extra).
package snapshot

import (
	"bytes"
	"encoding/json"
	"time"
)

// Opt is a value that may be unknown. The zero Opt is unknown: an empty cell
// in the input is never read as zero, and never as healthy.
type Opt[T any] struct {
	V     T
	Known bool
}

// Some returns a known value.
func Some[T any](v T) Opt[T] { return Opt[T]{V: v, Known: true} }

// Get returns the value and whether it is known.
func (o Opt[T]) Get() (T, bool) { return o.V, o.Known }

// MarshalJSON writes null for an unknown value.
func (o Opt[T]) MarshalJSON() ([]byte, error) {
	if !o.Known {
		return []byte("null"), nil
	}
	return json.Marshal(o.V)
}

// UnmarshalJSON reads null as unknown.
func (o *Opt[T]) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*o = Opt[T]{}
		return nil
	}
	if err := json.Unmarshal(b, &o.V); err != nil {
		return err
	}
	o.Known = true
	return nil
}

// Goal statuses, as the CSM reports them.
const (
	GoalOnTrack  = "on_track"
	GoalAtRisk   = "at_risk"
	GoalOffTrack = "off_track"
)

// Snapshot is one account's state during one ISO week. Dates are UTC
// midnights; Week is always that week's Monday.
type Snapshot struct {
	AccountID   string    `json:"account_id"`
	AccountName string    `json:"account_name"`
	Week        time.Time `json:"week"`
	Owner       string    `json:"owner"`
	ARR         float64   `json:"arr"`

	RenewalDate Opt[time.Time] `json:"renewal_date"`

	Logins          Opt[int]     `json:"logins"`
	ActiveUsers     Opt[int]     `json:"active_users"`
	LicensedSeats   Opt[int]     `json:"licensed_seats"`
	DAUMAU          Opt[float64] `json:"dau_mau"`
	FeatureAdoption Opt[float64] `json:"feature_adoption"`

	OpenTickets          Opt[int] `json:"open_tickets"`
	CriticalOpenTickets  Opt[int] `json:"critical_open_tickets"`
	OldestOpenTicketDays Opt[int] `json:"oldest_open_ticket_days"`
	Escalations          Opt[int] `json:"escalations"`
	IntegrationErrors    Opt[int] `json:"integration_errors"`

	UsersDeactivated Opt[int]       `json:"users_deactivated"`
	ChampionDeparted Opt[bool]      `json:"champion_departed"`
	LastExecContact  Opt[time.Time] `json:"last_exec_contact"`
	LastCSMMeeting   Opt[time.Time] `json:"last_csm_meeting"`
	NPS              Opt[int]       `json:"nps"`

	OverdueInvoiceDays Opt[int]  `json:"overdue_invoice_days"`
	DowngradeRequested Opt[bool] `json:"downgrade_requested"`

	SuccessGoal string `json:"success_goal,omitempty"`
	GoalStatus  string `json:"goal_status,omitempty"` // on_track, at_risk, off_track or "" (unknown)
	Notes       string `json:"notes,omitempty"`

	// Extensions beyond contract v1 (optional columns).
	Strategic Opt[bool] `json:"strategic"`          // a strategic account: raises priority, not risk
	Language  string    `json:"language,omitempty"` // the customer's language for outreach (BCP 47, e.g. "en", "zh")

	// Further optional columns, read by the risk model from version 1.4 on
	// (see ExtensionFields). A file without them reads exactly as before,
	// and they are left out of JSON while unknown.
	TicketsOpened  Opt[int]       `json:"tickets_opened,omitzero"`  // support tickets opened during the week
	LastLoginDate  Opt[time.Time] `json:"last_login_date,omitzero"` // the latest login by any of the account's users
	NPSSurveySent  Opt[time.Time] `json:"nps_survey_sent,omitzero"` // when the latest NPS survey was sent to the account
	MeetingsMissed Opt[int]       `json:"meetings_missed,omitzero"` // meetings the customer missed or cancelled during the week

	// ContactEmail is the customer contact an approved outreach may be
	// sent to. The risk model does not read it, and it never reaches the LLM.
	ContactEmail string `json:"contact_email,omitempty"`

	// Extra holds unknown columns, kept with the row.
	Extra map[string]string `json:"extra,omitempty"`

	// Source locates the row in its input, for evidence and error reports.
	Source Source `json:"source"`
}

// Source is where a snapshot row came from.
type Source struct {
	File string `json:"file"`
	Row  int    `json:"row"` // 1-based data row (CSV: the header is row 1, first data row is 2)
}

// Rejection reports one row that could not be used. Nothing is dropped
// silently: every rejected row is reported with its file, row and field.
type Rejection struct {
	File   string `json:"file"`
	Row    int    `json:"row"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Batch is what reading one or more inputs produced.
type Batch struct {
	Rows     []Snapshot  `json:"rows"`
	Rejected []Rejection `json:"rejected"`
	Warnings []string    `json:"warnings"`
}
