package snapshot

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"
)

// Table holds many rows in a compact form: about 140 bytes a row against a
// Snapshot's 500, and without pointers, so that a portfolio of a million
// account-weeks neither pages in half a gigabyte nor gives the garbage
// collector anything to scan. Strings are stored once each and referred to
// by number; dates as day numbers. A row that does not fit the compact form
// (a date that is not a UTC midnight, a count beyond 32 bits, a row number
// beyond 31 bits) is kept whole beside it, so Row always gives back exactly
// the Snapshot that was added.
//
// Rows keep their order. Each row also carries its account's number, in
// order of first appearance, so that rows can be grouped without a map.
type Table struct {
	rows     []packedRow
	strs     []string          // string number -> string; 0 is ""
	strIndex map[string]uint32 //
	accounts []tableAccount    // by account number
	accIndex map[string]uint32 // account id -> account number
	notes    []string          // notes number-1 -> notes
	extras   []map[string]string
	whole    []Snapshot // rows that do not fit the compact form
	// ext holds the rows' ExtensionFields, from the first row that knows
	// one on (it is then as long as rows): most books have none, and a
	// packedRow is kept small for them.
	ext     []packedExt
	latest  int64 // the latest week, as a day number
	hasRows bool

	// bigger, after growSoon, delivers a larger rows array allocated on
	// another goroutine: clearing a few hundred megabytes takes a while,
	// and the reader's ordered goroutine should not wait for it.
	bigger chan []packedRow

	// recent is the last string number per string field: consecutive rows
	// mostly repeat the account's name, owner, goal and language.
	recent [numStrFields]struct {
		s string
		n uint32
	}
}

// tableAccount is one account of a Table: its id, and its rows as a chain
// from the latest added back (packedRow.prev), so that a week given twice
// is found without a map of its own.
type tableAccount struct {
	id     string
	last   int32 // the account's latest added row; -1 for none
	rows   int32 // how many rows it has
	maxDay int64 // its latest week, as a day number
}

// The string fields of a row other than the id, for Table.recent.
const (
	sfName = iota
	sfOwner
	sfGoal
	sfLanguage
	sfFile
	numStrFields
)

// packedRow is one row of a Table. It holds no pointers.
type packedRow struct {
	arr, dauMAU, adoption float64
	account               uint32
	prev                  int32  // the account's row added before this one; -1 for none
	name, owner           uint32 // string numbers
	goal, language        uint32
	file                  uint32
	row                   int32
	notes, extra          uint32 // 1-based into notes and extras; 0 = none
	week                  int32  // day numbers
	renewal, exec, csm    int32
	counts                [numCounts]uint32
	known                 uint32 // bit per optional field (bitX below)
	bools                 uint8  // bit per boolean value
	goalStatus            uint8  // index into goalStatuses
	whole                 int32  // 1-based into whole; 0 = packed (-1 from packFixed: does not fit)
}

const (
	cLogins = iota
	cActiveUsers
	cLicensedSeats
	cOpenTickets
	cCriticalOpenTickets
	cOldestOpenTicketDays
	cEscalations
	cIntegrationErrors
	cUsersDeactivated
	cNPS
	cOverdueInvoiceDays
	numCounts
)

// Known bits: the counts use bits 0..numCounts-1.
const (
	bitDAUMAU = numCounts + iota
	bitAdoption
	bitRenewal
	bitExec
	bitCSM
	bitChampion
	bitDowngrade
	bitStrategic
)

var goalStatuses = [...]string{"", GoalOnTrack, GoalAtRisk, GoalOffTrack}

// packedExt is a row's ExtensionFields in a Table.
type packedExt struct {
	ticketsOpened, meetingsMissed uint32
	lastLogin, npsSurvey          int32  // day numbers
	contact                       uint32 // string number of ContactEmail
	known                         uint8  // bit per field (extX below)
}

const (
	extTicketsOpened = 1 << iota
	extMeetingsMissed
	extLastLogin
	extNPSSurvey
	extContact
)

// packExt packs the ExtensionFields of s, or reports that they do not fit
// the compact form.
func packExt(s *Snapshot) (packedExt, bool) {
	var e packedExt
	counts := [...]struct {
		o   Opt[int]
		dst *uint32
		bit uint8
	}{{s.TicketsOpened, &e.ticketsOpened, extTicketsOpened}, {s.MeetingsMissed, &e.meetingsMissed, extMeetingsMissed}}
	for _, c := range counts {
		switch {
		case !c.o.Known && c.o.V != 0, c.o.Known && (c.o.V < 0 || c.o.V > math.MaxUint32):
			return e, false
		case c.o.Known:
			*c.dst = uint32(c.o.V)
			e.known |= c.bit
		}
	}
	dates := [...]struct {
		o   Opt[time.Time]
		dst *int32
		bit uint8
	}{{s.LastLoginDate, &e.lastLogin, extLastLogin}, {s.NPSSurveySent, &e.npsSurvey, extNPSSurvey}}
	for _, d := range dates {
		if !d.o.Known {
			if !d.o.V.IsZero() {
				return e, false
			}
			continue
		}
		var ok bool
		if *d.dst, ok = packDay(d.o.V); !ok {
			return e, false
		}
		e.known |= d.bit
	}
	return e, true
}

// appendExt records the ExtensionFields of the row just appended.
func (t *Table) appendExt(e packedExt) {
	if t.ext == nil {
		if e.known == 0 {
			return
		}
		t.ext = make([]packedExt, len(t.rows)-1, cap(t.rows))
	}
	t.ext = append(t.ext, e)
}

// NewTable returns an empty table.
func NewTable() *Table {
	return &Table{strs: []string{""}, strIndex: map[string]uint32{"": 0}, accIndex: make(map[string]uint32, 1024)}
}

// TableOf returns a table holding a copy of rows, in their order.
func TableOf(rows []Snapshot) *Table {
	t := NewTable()
	t.Grow(len(rows))
	for i := range rows {
		t.Add(&rows[i])
	}
	return t
}

// Len is the number of rows.
func (t *Table) Len() int { return len(t.rows) }

// Accounts is the number of distinct account ids.
func (t *Table) Accounts() int { return len(t.accounts) }

// Account returns the number of row i's account: accounts are numbered
// 0, 1, 2... in the order their first row was added.
func (t *Table) Account(i int) int { return int(t.rows[i].account) }

// AccountID returns the id of account a (see Account).
func (t *Table) AccountID(a int) string { return t.accounts[a].id }

// AccountLen returns how many rows account a has.
func (t *Table) AccountLen(a int) int { return int(t.accounts[a].rows) }

// AccountRows appends the numbers of account a's rows to dst, in the order
// they were added. Accounts are independent: several goroutines may read
// theirs at once.
func (t *Table) AccountRows(a int, dst []int32) []int32 {
	n := len(dst)
	for i := t.accounts[a].last; i >= 0; i = t.rows[i].prev {
		dst = append(dst, i)
	}
	slices.Reverse(dst[n:])
	return dst
}

// WeekDay returns row i's week as days since 1970-01-01.
func (t *Table) WeekDay(i int) int64 {
	if w := t.rows[i].whole; w != 0 {
		return dayNumber(t.whole[w-1].Week)
	}
	return int64(t.rows[i].week)
}

// Week returns row i's week, as Row would.
func (t *Table) Week(i int) time.Time {
	if w := t.rows[i].whole; w != 0 {
		return t.whole[w-1].Week
	}
	return dayTime(int64(t.rows[i].week))
}

// CompareWeeks compares the weeks of rows i and j as time.Time.Compare
// would, mostly without building either time.
func (t *Table) CompareWeeks(i, j int) int {
	p, q := &t.rows[i], &t.rows[j]
	if p.whole == 0 && q.whole == 0 {
		return cmp.Compare(p.week, q.week)
	}
	return t.Week(i).Compare(t.Week(j))
}

// Language returns row i's language, as Row would.
func (t *Table) Language(i int) string {
	if w := t.rows[i].whole; w != 0 {
		return t.whole[w-1].Language
	}
	return t.strs[t.rows[i].language]
}

// LatestWeek returns the latest week of all rows, or the zero time.
func (t *Table) LatestWeek() time.Time {
	if !t.hasRows {
		return time.Time{}
	}
	return dayTime(t.latest)
}

// strOf is str with a one-entry cache per field.
func (t *Table) strOf(f int, s string) uint32 {
	if r := &t.recent[f]; r.s == s && (r.n != 0 || s == "") {
		return r.n
	}
	n := t.str(s)
	t.recent[f].s, t.recent[f].n = t.strs[n], n // s may be borrowed
	return n
}

// Grow makes room for n more rows.
func (t *Table) Grow(n int) { t.rows = slices.Grow(t.rows, n) }

// growSoon is Grow done in the background: rows are appended as usual
// until the larger array is ready, then moved into it.
func (t *Table) growSoon(n int) {
	size := len(t.rows) + n
	if n <= 0 || cap(t.rows) >= size || t.bigger != nil {
		return
	}
	ch := make(chan []packedRow, 1)
	go func() { ch <- make([]packedRow, 0, size) }()
	t.bigger = ch
}

// appendRow appends p, moving the rows into the array growSoon made once
// it is ready and the current one is full.
func (t *Table) appendRow(p packedRow) {
	if len(t.rows) == cap(t.rows) && t.bigger != nil {
		select {
		case big := <-t.bigger:
			t.bigger = nil
			if cap(big) > len(t.rows) {
				t.rows = append(big, t.rows...)
			}
		default:
		}
	}
	t.rows = append(t.rows, p)
}

// str returns the number of s, storing a copy of s if it is new: the
// reader lends its strings (views of its read buffer).
func (t *Table) str(s string) uint32 {
	if n, ok := t.strIndex[s]; ok {
		return n
	}
	s = strings.Clone(s)
	n := uint32(len(t.strs))
	t.strs = append(t.strs, s)
	t.strIndex[s] = n
	return n
}

// Add appends a copy of s.
func (t *Table) Add(s *Snapshot) { t.add(t.account(s.AccountID), s, nil) }

// account returns the number of the account with the given id, adding the
// account if it is new.
func (t *Table) account(id string) uint32 {
	if n := len(t.rows); n > 0 { // rows mostly come grouped by account
		if a := t.rows[n-1].account; t.accounts[a].id == id {
			return a
		}
	}
	if a, ok := t.accIndex[id]; ok {
		return a
	}
	id = strings.Clone(id)
	a := uint32(len(t.accounts))
	t.accounts = append(t.accounts, tableAccount{id: id, last: -1})
	t.accIndex[id] = a
	return a
}

// addNew appends a copy of s unless its account already has a row for its
// week; then it returns that row's number and false. pre, when not nil, is
// s already packed by packFixed.
func (t *Table) addNew(s *Snapshot, pre *packedRow) (int, bool) {
	a := t.account(s.AccountID)
	if acc := &t.accounts[a]; acc.last >= 0 {
		if day := dayNumber(s.Week); day <= acc.maxDay {
			for i := acc.last; i >= 0; i = t.rows[i].prev {
				if t.WeekDay(int(i)) == day {
					return int(i), false
				}
			}
		}
	}
	t.add(a, s, pre)
	return 0, true
}

// source returns where row i came from.
func (t *Table) source(i int) Source {
	p := &t.rows[i]
	if p.whole != 0 {
		return t.whole[p.whole-1].Source
	}
	return Source{File: t.strs[p.file], Row: int(p.row)}
}

func (t *Table) add(a uint32, s *Snapshot, pre *packedRow) {
	week := dayNumber(s.Week)
	if !t.hasRows || week > t.latest {
		t.latest, t.hasRows = week, true
	}
	var p packedRow
	fits := false
	if pre != nil {
		p, fits = *pre, pre.whole == 0
	} else {
		fits = packFixed(s, &p)
	}
	var e packedExt
	if fits {
		e, fits = packExt(s)
	}
	if fits {
		t.packStrings(s, &p)
		if s.ContactEmail != "" {
			e.contact, e.known = t.str(s.ContactEmail), e.known|extContact
		}
	} else {
		e = packedExt{}
		t.whole = append(t.whole, cloneStrings(*s))
		p = packedRow{whole: int32(len(t.whole))}
	}
	acc := &t.accounts[a]
	if acc.last < 0 || week > acc.maxDay {
		acc.maxDay = week
	}
	p.account, p.prev = a, acc.last
	acc.last = int32(len(t.rows))
	acc.rows++
	t.appendRow(p)
	t.appendExt(e)
}

// cloneStrings returns s with its own copy of each string, which the
// reader may have lent.
func cloneStrings(s Snapshot) Snapshot {
	s.AccountID, s.AccountName, s.Owner = strings.Clone(s.AccountID), strings.Clone(s.AccountName), strings.Clone(s.Owner)
	s.SuccessGoal, s.GoalStatus, s.Notes = strings.Clone(s.SuccessGoal), strings.Clone(s.GoalStatus), strings.Clone(s.Notes)
	s.Language, s.Source.File = strings.Clone(s.Language), strings.Clone(s.Source.File)
	s.ContactEmail = strings.Clone(s.ContactEmail)
	return s
}

// packFixed fills p from s but for its strings, notes and extras, or
// reports that s does not fit the compact form. It touches nothing but p,
// so that rows can be packed on several goroutines.
func packFixed(s *Snapshot, p *packedRow) bool {
	var ok bool
	if p.week, ok = packDay(s.Week); !ok {
		return false
	}
	if s.Source.Row < 0 || s.Source.Row > math.MaxInt32 {
		return false
	}
	goal := -1
	for i, g := range goalStatuses {
		if s.GoalStatus == g {
			goal = i
		}
	}
	if goal < 0 {
		return false
	}
	p.goalStatus = uint8(goal)
	counts := [numCounts]Opt[int]{
		cLogins: s.Logins, cActiveUsers: s.ActiveUsers, cLicensedSeats: s.LicensedSeats,
		cOpenTickets: s.OpenTickets, cCriticalOpenTickets: s.CriticalOpenTickets,
		cOldestOpenTicketDays: s.OldestOpenTicketDays, cEscalations: s.Escalations,
		cIntegrationErrors: s.IntegrationErrors, cUsersDeactivated: s.UsersDeactivated,
		cNPS: s.NPS, cOverdueInvoiceDays: s.OverdueInvoiceDays,
	}
	for i, c := range counts {
		if !c.Known {
			if c.V != 0 {
				return false
			}
			continue
		}
		if c.V < 0 || c.V > math.MaxUint32 {
			return false
		}
		p.counts[i] = uint32(c.V)
		p.known |= 1 << i
	}
	dates := [...]struct {
		o   Opt[time.Time]
		dst *int32
		bit int
	}{{s.RenewalDate, &p.renewal, bitRenewal}, {s.LastExecContact, &p.exec, bitExec}, {s.LastCSMMeeting, &p.csm, bitCSM}}
	for _, d := range dates {
		if !d.o.Known {
			if !d.o.V.IsZero() {
				return false
			}
			continue
		}
		if *d.dst, ok = packDay(d.o.V); !ok {
			return false
		}
		p.known |= 1 << d.bit
	}
	floats := [...]struct {
		o   Opt[float64]
		dst *float64
		bit int
	}{{s.DAUMAU, &p.dauMAU, bitDAUMAU}, {s.FeatureAdoption, &p.adoption, bitAdoption}}
	for _, f := range floats {
		if f.o.Known {
			p.known |= 1 << f.bit
		}
		*f.dst = f.o.V
	}
	bools := [...]struct {
		o   Opt[bool]
		bit int
	}{{s.ChampionDeparted, bitChampion}, {s.DowngradeRequested, bitDowngrade}, {s.Strategic, bitStrategic}}
	for i, b := range bools {
		if b.o.Known {
			p.known |= 1 << b.bit
		}
		if b.o.V {
			p.bools |= 1 << i
		}
	}
	p.arr = s.ARR
	return true
}

// packStrings fills in the strings of p, packed from s by packFixed.
func (t *Table) packStrings(s *Snapshot, p *packedRow) {
	p.name, p.owner = t.strOf(sfName, s.AccountName), t.strOf(sfOwner, s.Owner)
	p.goal, p.language = t.strOf(sfGoal, s.SuccessGoal), t.strOf(sfLanguage, s.Language)
	p.file, p.row = t.strOf(sfFile, s.Source.File), int32(s.Source.Row)
	if s.Notes != "" {
		t.notes = append(t.notes, strings.Clone(s.Notes))
		p.notes = uint32(len(t.notes))
	}
	if s.Extra != nil {
		t.extras = append(t.extras, s.Extra)
		p.extra = uint32(len(t.extras))
	}
}

// packDay returns t as a day number when t is a UTC midnight that dayTime
// gives back exactly.
func packDay(t time.Time) (int32, bool) {
	d := dayNumber(t)
	if d < math.MinInt32 || d > math.MaxInt32 || dayTime(d) != t {
		return 0, false
	}
	return int32(d), true
}

// RowUsage sets the week, language and usage fields (logins, active users,
// DAU/MAU, feature adoption) of *dst to row i's and leaves the others as
// they are: a pass over a large book that reads only usage (the risk
// model's peer levels) unpacks a fraction of what Row does.
func (t *Table) RowUsage(i int, dst *Snapshot) {
	p := &t.rows[i]
	if p.whole != 0 {
		s := &t.whole[p.whole-1]
		dst.Week, dst.Language = s.Week, s.Language
		dst.Logins, dst.ActiveUsers, dst.DAUMAU, dst.FeatureAdoption = s.Logins, s.ActiveUsers, s.DAUMAU, s.FeatureAdoption
		return
	}
	dst.Week, dst.Language = dayTime(int64(p.week)), t.strs[p.language]
	dst.Logins = Opt[int]{V: int(p.counts[cLogins]), Known: p.known&(1<<cLogins) != 0}
	dst.ActiveUsers = Opt[int]{V: int(p.counts[cActiveUsers]), Known: p.known&(1<<cActiveUsers) != 0}
	dst.DAUMAU = Opt[float64]{V: p.dauMAU, Known: p.known&(1<<bitDAUMAU) != 0}
	dst.FeatureAdoption = Opt[float64]{V: p.adoption, Known: p.known&(1<<bitAdoption) != 0}
}

// Row sets *dst to row i as it was added.
func (t *Table) Row(i int, dst *Snapshot) {
	p := &t.rows[i]
	if p.whole != 0 {
		*dst = t.whole[p.whole-1]
		return
	}
	*dst = Snapshot{
		AccountID:   t.accounts[p.account].id,
		AccountName: t.strs[p.name],
		Week:        dayTime(int64(p.week)),
		Owner:       t.strs[p.owner],
		ARR:         p.arr,
		SuccessGoal: t.strs[p.goal],
		GoalStatus:  goalStatuses[p.goalStatus],
		Language:    t.strs[p.language],
		Source:      Source{File: t.strs[p.file], Row: int(p.row)},
	}
	count := func(c int) Opt[int] { return Opt[int]{V: int(p.counts[c]), Known: p.known&(1<<c) != 0} }
	dst.Logins, dst.ActiveUsers, dst.LicensedSeats = count(cLogins), count(cActiveUsers), count(cLicensedSeats)
	dst.OpenTickets, dst.CriticalOpenTickets = count(cOpenTickets), count(cCriticalOpenTickets)
	dst.OldestOpenTicketDays, dst.Escalations = count(cOldestOpenTicketDays), count(cEscalations)
	dst.IntegrationErrors, dst.UsersDeactivated = count(cIntegrationErrors), count(cUsersDeactivated)
	dst.NPS, dst.OverdueInvoiceDays = count(cNPS), count(cOverdueInvoiceDays)
	date := func(day int32, known bool) Opt[time.Time] {
		if !known {
			return Opt[time.Time]{}
		}
		return Some(dayTime(int64(day)))
	}
	known := func(bit int) bool { return p.known&(1<<bit) != 0 }
	dst.RenewalDate, dst.LastExecContact, dst.LastCSMMeeting = date(p.renewal, known(bitRenewal)), date(p.exec, known(bitExec)), date(p.csm, known(bitCSM))
	dst.DAUMAU = Opt[float64]{V: p.dauMAU, Known: p.known&(1<<bitDAUMAU) != 0}
	dst.FeatureAdoption = Opt[float64]{V: p.adoption, Known: p.known&(1<<bitAdoption) != 0}
	boolean := func(i, bit int) Opt[bool] { return Opt[bool]{V: p.bools&(1<<i) != 0, Known: p.known&(1<<bit) != 0} }
	dst.ChampionDeparted, dst.DowngradeRequested, dst.Strategic = boolean(0, bitChampion), boolean(1, bitDowngrade), boolean(2, bitStrategic)
	if p.notes != 0 {
		dst.Notes = t.notes[p.notes-1]
	}
	if p.extra != 0 {
		dst.Extra = t.extras[p.extra-1]
	}
	if t.ext != nil && t.ext[i].known != 0 {
		e := &t.ext[i]
		dst.TicketsOpened = Opt[int]{V: int(e.ticketsOpened), Known: e.known&extTicketsOpened != 0}
		dst.MeetingsMissed = Opt[int]{V: int(e.meetingsMissed), Known: e.known&extMeetingsMissed != 0}
		dst.LastLoginDate = date(e.lastLogin, e.known&extLastLogin != 0)
		dst.NPSSurveySent = date(e.npsSurvey, e.known&extNPSSurvey != 0)
		if e.known&extContact != 0 {
			dst.ContactEmail = t.strs[e.contact]
		}
	}
}

// ReadTable reads snapshot files as ReadFiles does, into a Table instead
// of a slice of rows. The batch returned holds the rejections and
// warnings; its Rows is empty.
func ReadTable(paths []string) (*Table, Batch, error) {
	t := NewTable()
	rd := newReader()
	rd.table = t
	rd.p.borrow = true // the table copies what it keeps
	err := rd.readFiles(paths)
	t.bigger = nil // not needed after all: the rows fitted where they were
	return t, rd.finish(), err
}
