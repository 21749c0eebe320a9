package importer

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
)

// Usage is one account's product usage in one ISO week, derived from an
// event log.
type Usage struct {
	AccountID   string
	Week        time.Time
	Logins      int                   // login events, or sessions (see ReadEvents)
	ActiveUsers int                   // distinct users with any event
	DAUMAU      snapshot.Opt[float64] // mean daily actives over the week / actives in the 30 days to its end
}

// LoginEvents are the event names counted as logins (case-insensitive).
var LoginEvents = []string{"login", "log_in", "sign_in", "signin", "session_start"}

type event struct {
	user string
	day  time.Time
}

// ReadEvents reads a product-analytics event log, a CSV with the header
// account_id,user_id,timestamp,event (more columns are ignored), and returns
// weekly usage per account, sorted by account then week.
//
// timestamp is RFC 3339 or YYYY-MM-DD[ HH:MM[:SS]]; the event's day is its
// date as written (no time-zone shift). Weeks run from an account's first
// event to the last week in the log: a week inside that span without events
// is a known zero, since the log covers it; weeks before an account's first
// event are not emitted. Logins count events named in LoginEvents; when the
// log has no such event at all, they count sessions instead (distinct
// user-days), and a warning says so.
func ReadEvents(path string) ([]Usage, []snapshot.Rejection, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read events: %w", err)
	}
	defer f.Close()
	return readEvents(f, path)
}

func readEvents(r io.Reader, name string) ([]Usage, []snapshot.Rejection, []string, error) {
	var rejected []snapshot.Rejection
	var warnings []string
	events := map[string][]event{}
	logins := map[string]map[time.Time]int{} // account → week → login events
	anyLogin := false
	isLogin := map[string]bool{}
	for _, e := range LoginEvents {
		isLogin[e] = true
	}
	err := readTableFrom(r, name, []string{"account_id", "user_id", "timestamp", "event"}, &rejected, func(t *table) {
		id, user := t.required("account_id"), t.required("user_id")
		ts := t.required("timestamp")
		ev := strings.ToLower(t.required("event"))
		if t.bad {
			return
		}
		day, ok := parseTimestamp(ts)
		if !ok {
			t.reject("timestamp", fmt.Sprintf("%q is not a timestamp (RFC 3339 or YYYY-MM-DD HH:MM:SS)", ts))
			return
		}
		events[id] = append(events[id], event{user: user, day: day})
		if isLogin[ev] {
			anyLogin = true
			if logins[id] == nil {
				logins[id] = map[time.Time]int{}
			}
			logins[id][snapshot.Monday(day)]++
		}
	})
	if err != nil {
		return nil, rejected, nil, fmt.Errorf("read events: %w", err)
	}
	if len(events) == 0 {
		return nil, rejected, warnings, nil
	}
	if !anyLogin {
		warnings = append(warnings, fmt.Sprintf("%s: no login events (%s); logins count sessions (distinct user-days) instead",
			name, strings.Join(LoginEvents, ", ")))
	}
	var lastWeek time.Time
	for _, evs := range events {
		for _, e := range evs {
			if w := snapshot.Monday(e.day); w.After(lastWeek) {
				lastWeek = w
			}
		}
	}
	ids := make([]string, 0, len(events))
	for id := range events {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []Usage
	for _, id := range ids {
		evs := events[id]
		sort.Slice(evs, func(i, j int) bool { return evs[i].day.Before(evs[j].day) })
		byDay := map[time.Time]map[string]bool{}
		for _, e := range evs {
			if byDay[e.day] == nil {
				byDay[e.day] = map[string]bool{}
			}
			byDay[e.day][e.user] = true
		}
		usersIn := func(from, to time.Time) map[string]bool {
			set := map[string]bool{}
			for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
				for u := range byDay[d] {
					set[u] = true
				}
			}
			return set
		}
		for w := snapshot.Monday(evs[0].day); !w.After(lastWeek); w = w.AddDate(0, 0, 7) {
			end := w.AddDate(0, 0, 6)
			u := Usage{AccountID: id, Week: w, ActiveUsers: len(usersIn(w, end))}
			daily := 0
			for d := w; !d.After(end); d = d.AddDate(0, 0, 1) {
				daily += len(byDay[d])
			}
			if anyLogin {
				u.Logins = logins[id][w]
			} else {
				u.Logins = daily // sessions: distinct user-days
			}
			if mau := len(usersIn(end.AddDate(0, 0, -29), end)); mau > 0 {
				u.DAUMAU = snapshot.Some(math.Round(float64(daily)/7/float64(mau)*1000) / 1000)
			}
			out = append(out, u)
		}
	}
	return out, rejected, warnings, nil
}

func parseTimestamp(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), true
	}
	return snapshot.ParseDate(s)
}

// MergeUsage puts weekly usage into snapshot rows: for each row with usage
// for its (account, week), logins, active_users and dau_mau come from the
// usage (the event log is the better source for them). It returns the
// merged rows and warnings for usage with no row to go into and for values
// it replaced; no usage is dropped without a warning.
func MergeUsage(rows []snapshot.Snapshot, usage []Usage) ([]snapshot.Snapshot, []string) {
	type key struct {
		id string
		w  time.Time
	}
	idx := make(map[key]Usage, len(usage))
	for _, u := range usage {
		idx[key{u.AccountID, u.Week}] = u
	}
	out := make([]snapshot.Snapshot, len(rows))
	copy(out, rows)
	used := map[key]bool{}
	replaced := 0
	for i := range out {
		s := &out[i]
		k := key{s.AccountID, s.Week}
		u, ok := idx[k]
		if !ok {
			continue
		}
		used[k] = true
		if (s.Logins.Known && s.Logins.V != u.Logins) || (s.ActiveUsers.Known && s.ActiveUsers.V != u.ActiveUsers) {
			replaced++
		}
		s.Logins, s.ActiveUsers = snapshot.Some(u.Logins), snapshot.Some(u.ActiveUsers)
		if u.DAUMAU.Known {
			s.DAUMAU = u.DAUMAU
		}
	}
	var warnings []string
	if replaced > 0 {
		warnings = append(warnings, fmt.Sprintf("%d rows had logins or active_users that differ from the event log; the event log's values were used", replaced))
	}
	orphans := map[string]int{}
	for _, u := range usage {
		if !used[key{u.AccountID, u.Week}] {
			orphans[u.AccountID]++
		}
	}
	if len(orphans) > 0 {
		ids := make([]string, 0, len(orphans))
		n := 0
		for id, c := range orphans {
			ids = append(ids, id)
			n += c
		}
		sort.Strings(ids)
		if len(ids) > 10 {
			ids = append(ids[:10], "...")
		}
		warnings = append(warnings, fmt.Sprintf("%d account-weeks of usage have no row in the accounts file and were not merged (accounts %s)", n, strings.Join(ids, ", ")))
	}
	return out, warnings
}

// WriteUsageCSV writes usage as a partial snapshot file: account_id, week,
// logins, active_users, dau_mau. It lacks the required account fields, so
// it is meant to be merged (see MergeUsage), not scored on its own.
func WriteUsageCSV(w io.Writer, usage []Usage) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"account_id", "week", "logins", "active_users", "dau_mau"}); err != nil {
		return err
	}
	for _, u := range usage {
		dm := ""
		if u.DAUMAU.Known {
			dm = strconv.FormatFloat(u.DAUMAU.V, 'f', -1, 64)
		}
		if err := cw.Write([]string{u.AccountID, snapshot.FormatDate(u.Week), strconv.Itoa(u.Logins), strconv.Itoa(u.ActiveUsers), dm}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadAccounts reads the accounts file for MergeUsage. A snapshot file (with
// a week column) is read as is. A file without a week column is a list of
// accounts: each row's fields (account_name, owner, arr, renewal_date, ...)
// are copied into every week in weeks, and rejections name the row of the
// list.
func ReadAccounts(path string, weeks []time.Time) (snapshot.Batch, error) {
	f, err := os.Open(path)
	if err != nil {
		return snapshot.Batch{}, fmt.Errorf("read accounts: %w", err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = -1
	records, err := cr.ReadAll()
	if err != nil {
		// Not a CSV we can inspect: let the snapshot reader report it.
		return snapshot.ReadFiles([]string{path})
	}
	hasWeek := false
	if len(records) > 0 {
		for _, h := range records[0] {
			if strings.EqualFold(strings.TrimSpace(h), "week") {
				hasWeek = true
			}
		}
	}
	if hasWeek || len(records) == 0 || len(weeks) == 0 {
		return snapshot.ReadFiles([]string{path})
	}
	// A static list: read it once with a placeholder week, keeping row
	// numbers, then copy each account into every week.
	var buf strings.Builder
	w := csv.NewWriter(&buf)
	for i, rec := range records {
		cell := snapshot.FormatDate(weeks[0])
		if i == 0 {
			cell = "week"
		}
		w.Write(append(rec, cell))
	}
	w.Flush()
	b, err := snapshot.Read(strings.NewReader(buf.String()), path)
	if err != nil {
		return b, err
	}
	var rows []snapshot.Snapshot
	for _, s := range b.Rows {
		for _, wk := range weeks {
			c := s
			c.Week = wk
			rows = append(rows, c)
		}
	}
	b.Rows = rows
	return b, nil
}

// UsageWeeks returns the distinct weeks in usage, oldest first.
func UsageWeeks(usage []Usage) []time.Time {
	seen := map[time.Time]bool{}
	var ws []time.Time
	for _, u := range usage {
		if !seen[u.Week] {
			seen[u.Week] = true
			ws = append(ws, u.Week)
		}
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i].Before(ws[j]) })
	return ws
}
