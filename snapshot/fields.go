package snapshot

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// field names one column of the snapshot format.
type field int8

const (
	fAccountID field = iota
	fAccountName
	fWeek
	fOwner
	fARR
	fRenewalDate
	fLogins
	fActiveUsers
	fLicensedSeats
	fDAUMAU
	fFeatureAdoption
	fOpenTickets
	fCriticalOpenTickets
	fOldestOpenTicketDays
	fEscalations
	fIntegrationErrors
	fUsersDeactivated
	fChampionDeparted
	fLastExecContact
	fLastCSMMeeting
	fNPS
	fOverdueInvoiceDays
	fDowngradeRequested
	fSuccessGoal
	fGoalStatus
	fNotes
	fStrategic
	fLanguage
	fTicketsOpened
	fLastLoginDate
	fNPSSurveySent
	fMeetingsMissed
	fContactEmail
	numFields

	fExtra field = -1 // a column the format does not know
)

// Fields lists the column names of the format in canonical order: the
// contract's v1 fields, then the extensions (strategic, language, then
// ExtensionFields).
var Fields = [numFields]string{
	"account_id", "account_name", "week", "owner", "arr", "renewal_date",
	"logins", "active_users", "licensed_seats", "dau_mau", "feature_adoption",
	"open_tickets", "critical_open_tickets", "oldest_open_ticket_days", "escalations", "integration_errors",
	"users_deactivated", "champion_departed", "last_exec_contact", "last_csm_meeting", "nps",
	"overdue_invoice_days", "downgrade_requested",
	"success_goal", "goal_status", "notes",
	"strategic", "language",
	"tickets_opened", "last_login_date", "nps_survey_sent", "meetings_missed",
	"contact_email",
}

// firstExtension is the first of the columns WriteCSV writes only when a
// row knows them, so that files of v1 data are written as before.
const firstExtension = fTicketsOpened

// ExtensionFields are the optional columns after the v1 fields, strategic
// and language (see the package documentation).
var ExtensionFields = Fields[firstExtension:]

var required = [...]field{fAccountID, fAccountName, fWeek, fOwner, fARR}

var fieldByName = func() map[string]field {
	m := make(map[string]field, numFields)
	for i, name := range Fields {
		m[name] = field(i)
	}
	return m
}()

// lookupField matches a column name case-insensitively after trimming.
func lookupField(name string) field {
	name = strings.TrimSpace(name)
	if f, ok := fieldByName[name]; ok {
		return f
	}
	if f, ok := fieldByName[strings.ToLower(name)]; ok {
		return f
	}
	return fExtra
}

// rowParser turns cells into a Snapshot. It is reused across rows and files
// so that repeated strings (ids, names, owners) are stored once.
type rowParser struct {
	intern map[string]string
	// recent holds the last string stored per field: consecutive rows
	// mostly repeat the account, its name and owner.
	recent [numFields]string
	// borrow: strings are handed out as given (views of the read buffer),
	// not copied, for a caller that copies what it keeps before the
	// buffer is reused (Table does).
	borrow bool
}

func newRowParser() *rowParser {
	return &rowParser{intern: make(map[string]string, 1024)}
}

// str returns s trimmed and interned: a row's cells are substrings of one
// line, and keeping a substring would keep the whole line alive.
func (p *rowParser) str(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || p.borrow {
		return s
	}
	if v, ok := p.intern[s]; ok {
		return v
	}
	if len(p.intern) >= 1<<20 { // bounded: ids beyond this are simply cloned
		return strings.Clone(s)
	}
	v := strings.Clone(s)
	p.intern[v] = v
	return v
}

// strOf is str with a one-entry cache per field.
func (p *rowParser) strOf(f field, v string) string {
	if p.borrow {
		return v // recent would keep views of buffers since reused
	}
	if r := p.recent[f]; r == v {
		return r
	}
	r := p.str(v)
	p.recent[f] = r
	return r
}

// set stores one trimmed, non-empty cell into s. It returns "" on success
// or the reason the value was rejected.
func (p *rowParser) set(s *Snapshot, f field, v string) string {
	switch f {
	case fAccountID:
		if reason := p.checkIdent(f, v); reason != "" {
			return reason
		}
		s.AccountID = p.strOf(f, v)
	case fAccountName:
		s.AccountName = p.strOf(f, v)
	case fOwner:
		if reason := p.checkIdent(f, v); reason != "" {
			return reason
		}
		s.Owner = p.strOf(f, v)
	case fWeek:
		day, ok := parseDay(v)
		if !ok {
			return badDate(v)
		}
		s.Week = dayTime(mondayOf(day))
	case fARR:
		x, reason := parseFloat(v)
		if reason != "" {
			return reason
		}
		if x < 0 {
			return quote(v) + " is negative"
		}
		s.ARR = x
	case fRenewalDate:
		return setDate(&s.RenewalDate, v)
	case fLastExecContact:
		return setDate(&s.LastExecContact, v)
	case fLastCSMMeeting:
		return setDate(&s.LastCSMMeeting, v)
	case fLogins:
		return setCount(&s.Logins, v)
	case fActiveUsers:
		return setCount(&s.ActiveUsers, v)
	case fLicensedSeats:
		return setCount(&s.LicensedSeats, v)
	case fOpenTickets:
		return setCount(&s.OpenTickets, v)
	case fCriticalOpenTickets:
		return setCount(&s.CriticalOpenTickets, v)
	case fOldestOpenTicketDays:
		return setCount(&s.OldestOpenTicketDays, v)
	case fEscalations:
		return setCount(&s.Escalations, v)
	case fIntegrationErrors:
		return setCount(&s.IntegrationErrors, v)
	case fUsersDeactivated:
		return setCount(&s.UsersDeactivated, v)
	case fOverdueInvoiceDays:
		return setCount(&s.OverdueInvoiceDays, v)
	case fNPS:
		if reason := setCount(&s.NPS, v); reason != "" {
			return reason
		}
		if s.NPS.V > 10 {
			s.NPS = Opt[int]{}
			return quote(v) + " is outside 0..10"
		}
	case fDAUMAU:
		return setFraction(&s.DAUMAU, v)
	case fFeatureAdoption:
		return setFraction(&s.FeatureAdoption, v)
	case fChampionDeparted:
		return setBool(&s.ChampionDeparted, v)
	case fDowngradeRequested:
		return setBool(&s.DowngradeRequested, v)
	case fStrategic:
		return setBool(&s.Strategic, v)
	case fSuccessGoal:
		s.SuccessGoal = p.strOf(f, v)
	case fGoalStatus:
		g, ok := parseGoalStatus(v)
		if !ok {
			return quote(v) + " is not one of on_track, at_risk, off_track"
		}
		s.GoalStatus = g
	case fNotes:
		s.Notes = v
		if !p.borrow {
			s.Notes = strings.Clone(v)
		}
	case fLanguage:
		s.Language = p.strOf(f, v)
	case fTicketsOpened:
		return setCount(&s.TicketsOpened, v)
	case fMeetingsMissed:
		return setCount(&s.MeetingsMissed, v)
	case fLastLoginDate:
		return setDate(&s.LastLoginDate, v)
	case fNPSSurveySent:
		return setDate(&s.NPSSurveySent, v)
	case fContactEmail:
		s.ContactEmail = p.strOf(f, v)
	}
	return ""
}

func setDate(o *Opt[time.Time], v string) string {
	t, ok := parseDate(v)
	if !ok {
		return badDate(v)
	}
	*o = Some(t)
	return ""
}

// setCount reads a non-negative whole number. "12.0" (as spreadsheets
// write) is accepted; "12.5" is not.
func setCount(o *Opt[int], v string) string {
	n, err := strconv.Atoi(v)
	if err != nil {
		x, perr := strconv.ParseFloat(v, 64)
		if perr != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return quote(v) + " is not a whole number"
		}
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return quote(v) + " is not a whole number"
		}
		n = int(x)
	}
	if n < 0 {
		return quote(v) + " is negative"
	}
	*o = Some(n)
	return ""
}

func setFraction(o *Opt[float64], v string) string {
	x, reason := parseFloat(v)
	if reason != "" {
		return reason
	}
	if x < 0 || x > 1 {
		return quote(v) + " is outside [0,1]"
	}
	*o = Some(x)
	return ""
}

func parseFloat(v string) (float64, string) {
	if x, ok := parseSimpleDecimal(v); ok {
		return x, ""
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, quote(v) + " is not a number"
	}
	return x, ""
}

func setBool(o *Opt[bool], v string) string {
	b, ok := parseBool(v)
	if !ok {
		return quote(v) + " is not a boolean (true/false, yes/no, 1/0)"
	}
	*o = Some(b)
	return ""
}

func parseBool(v string) (bool, bool) {
	switch len(v) {
	case 1:
		switch v[0] {
		case '1':
			return true, true
		case '0':
			return false, true
		}
	case 2:
		if strings.EqualFold(v, "no") {
			return false, true
		}
	case 3:
		if strings.EqualFold(v, "yes") {
			return true, true
		}
	case 4:
		if strings.EqualFold(v, "true") {
			return true, true
		}
	case 5:
		if strings.EqualFold(v, "false") {
			return false, true
		}
	}
	return false, false
}

// parseGoalStatus accepts the three statuses in any case, with spaces or
// hyphens in place of the underscore ("On Track").
func parseGoalStatus(v string) (string, bool) {
	switch v { // the usual spelling, without allocating
	case GoalOnTrack:
		return GoalOnTrack, true
	case GoalAtRisk:
		return GoalAtRisk, true
	case GoalOffTrack:
		return GoalOffTrack, true
	}
	norm := func(r rune) rune {
		if r == ' ' || r == '-' {
			return '_'
		}
		return r
	}
	switch g := strings.Map(norm, strings.ToLower(v)); g {
	case GoalOnTrack:
		return GoalOnTrack, true
	case GoalAtRisk:
		return GoalAtRisk, true
	case GoalOffTrack:
		return GoalOffTrack, true
	}
	return "", false
}

func badDate(v string) string { return quote(v) + " is not a date (YYYY-MM-DD)" }

// quote shortens and quotes a bad value for an error message.
func quote(v string) string {
	const max = 40
	if len(v) > max {
		cut := max
		for cut > 0 && !isRuneStart(v[cut]) {
			cut--
		}
		v = v[:cut] + "..."
	}
	return strconv.Quote(v)
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// pow10 are the powers of ten a float64 holds exactly.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// parseSimpleDecimal parses the usual number cell, digits with at most
// one point ("0.345", "120000"), of at most 15 digits, and reports false
// for anything else (signs, exponents, long numbers), which goes to
// strconv.ParseFloat. It gives exactly what ParseFloat gives: the digits
// and the power of ten are both exact in a float64, and their quotient
// is rounded once, to the nearest float64, as ParseFloat's result is.
func parseSimpleDecimal(v string) (float64, bool) {
	var m uint64
	digits, frac, point := 0, 0, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= '0' && c <= '9':
			m = m*10 + uint64(c-'0')
			digits++
			if point {
				frac++
			}
		case c == '.' && !point:
			point = true
		default:
			return 0, false
		}
	}
	if digits == 0 || digits > 15 {
		return 0, false
	}
	return float64(m) / pow10[frac], true
}
