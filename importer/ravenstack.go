package importer

import (
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
)

// RavenStack file names inside the export directory.
const (
	RavenAccounts      = "ravenstack_accounts.csv"
	RavenSubscriptions = "ravenstack_subscriptions.csv"
	RavenUsage         = "ravenstack_feature_usage.csv"
	RavenTickets       = "ravenstack_support_tickets.csv"
	RavenChurn         = "ravenstack_churn_events.csv"
)

// RavenStackOptions tunes the RavenStack import.
type RavenStackOptions struct {
	// Owner is put in every row: the export names no CSM, and owner is
	// required (default "unassigned").
	Owner string
}

type ravenAccount struct {
	id, name, industry, country string
	signup                      time.Time
	row                         int
}

type ravenSub struct {
	start, end      time.Time // end zero: still active
	plan, billing   string
	seats           int
	arr             float64
	downgrade       bool
	hasSeats, hasAR bool
}

type ravenUsage struct {
	date    time.Time
	feature string
	errors  int
}

type ravenTicket struct {
	submitted, closed time.Time // closed zero: still open
	urgent, escalated bool
}

// RavenStack reads the RavenStack export in dir (accounts, subscriptions,
// feature usage, support tickets, churn events: the Kaggle "SaaS
// Subscription & Churn Analytics Dataset") into weekly snapshots and a churn
// map.
//
// The data is SYNTHETIC and its tables were generated independently: usage
// is not tied to subscription lifetimes, most tickets predate signup, and
// there is no pre-churn signal (see data/ravenstack/SOURCE.md). It proves the
// importer and the pipeline end to end, not the model's accuracy: a backtest
// on it scores at chance whatever the model does.
//
// Mapping, per account and ISO week from its earliest dated record to the
// last week in the export:
//   - account_name, industry/country/plan_tier (extra columns); language
//     from country (DE→de, FR→fr, else en); owner from opts.Owner.
//   - The current subscription is the latest one started by the week's end
//     and not ended before the week began (subscriptions are read as
//     successive plans). arr and licensed_seats come from it (arr 0 when
//     none is current); renewal_date is its next start anniversary when
//     billed annually, unknown otherwise; downgrade_requested is true in the
//     week a subscription flagged as a downgrade starts.
//   - logins: feature-usage records in the week (the export has no login
//     events; a record is one feature used on one day); feature_adoption:
//     distinct features used in the 30 days to the week's end over all
//     features in the export; integration_errors: the records' error_count.
//     active_users and dau_mau stay unknown: the export has no user ids.
//   - open_tickets, critical_open_tickets (priority urgent) and
//     oldest_open_ticket_days at the week's end (Sunday); escalations:
//     tickets submitted that week with escalation_flag set.
//   - Churn: each account's first churn_date. Later churn events of the same
//     account are counted in a warning. accounts.churn_flag disagrees with
//     the events and is not used.
//
// Everything else (sponsor contact, meetings, NPS, invoices, goals) is not in
// the export and stays unknown.
func RavenStack(dir string, opts RavenStackOptions) (Result, error) {
	if opts.Owner == "" {
		opts.Owner = "unassigned"
	}
	var res Result
	res.Churn = map[string]time.Time{}
	rej := &res.Rejected
	path := func(name string) string { return filepath.Join(dir, name) }

	accounts := map[string]*ravenAccount{}
	err := readTable(path(RavenAccounts), []string{"account_id", "account_name"}, rej, func(t *table) {
		a := &ravenAccount{id: t.required("account_id"), name: t.required("account_name"),
			industry: t.get("industry"), country: t.get("country"), row: t.row}
		a.signup, _ = t.date("signup_date", false)
		if t.bad {
			return
		}
		if prev, dup := accounts[a.id]; dup {
			t.reject("account_id", fmt.Sprintf("account %q already given at row %d", a.id, prev.row))
			return
		}
		accounts[a.id] = a
	})
	if err != nil {
		return res, fmt.Errorf("ravenstack: %w", err)
	}
	known := func(t *table, col string) (string, bool) {
		id := t.required(col)
		if t.bad {
			return "", false
		}
		if accounts[id] == nil {
			t.reject(col, fmt.Sprintf("unknown account %q (not in %s)", id, RavenAccounts))
			return "", false
		}
		return id, true
	}

	subs := map[string][]ravenSub{}
	subAccount := map[string]string{}
	err = readTable(path(RavenSubscriptions), []string{"subscription_id", "account_id", "start_date"}, rej, func(t *table) {
		sid := t.required("subscription_id")
		id, ok := known(t, "account_id")
		if !ok {
			return
		}
		var s ravenSub
		s.start, _ = t.date("start_date", true)
		s.end, _ = t.date("end_date", false)
		seats, hasSeats := t.number("seats")
		s.arr, s.hasAR = t.number("arr_amount")
		s.downgrade, _ = t.boolean("downgrade_flag")
		s.plan, s.billing = t.get("plan_tier"), t.get("billing_frequency")
		s.seats, s.hasSeats = int(seats), hasSeats
		if t.bad {
			return
		}
		if _, dup := subAccount[sid]; dup {
			t.reject("subscription_id", fmt.Sprintf("subscription %q given twice", sid))
			return
		}
		subAccount[sid] = id
		subs[id] = append(subs[id], s)
	})
	if err != nil {
		return res, fmt.Errorf("ravenstack: %w", err)
	}

	usage := map[string][]ravenUsage{}
	features := map[string]bool{}
	err = readTable(path(RavenUsage), []string{"subscription_id", "usage_date", "feature_name"}, rej, func(t *table) {
		sid := t.required("subscription_id")
		if t.bad {
			return
		}
		id, ok := subAccount[sid]
		if !ok {
			t.reject("subscription_id", fmt.Sprintf("unknown subscription %q (not in %s)", sid, RavenSubscriptions))
			return
		}
		var u ravenUsage
		u.date, _ = t.date("usage_date", true)
		u.feature = t.required("feature_name")
		e, _ := t.number("error_count")
		u.errors = int(e)
		if t.bad {
			return
		}
		features[u.feature] = true
		usage[id] = append(usage[id], u)
	})
	if err != nil {
		return res, fmt.Errorf("ravenstack: %w", err)
	}

	tickets := map[string][]ravenTicket{}
	err = readTable(path(RavenTickets), []string{"account_id", "submitted_at"}, rej, func(t *table) {
		id, ok := known(t, "account_id")
		if !ok {
			return
		}
		var k ravenTicket
		k.submitted, _ = t.date("submitted_at", true)
		k.closed, _ = t.date("closed_at", false)
		k.urgent = t.get("priority") == "urgent"
		k.escalated, _ = t.boolean("escalation_flag")
		if t.bad {
			return
		}
		tickets[id] = append(tickets[id], k)
	})
	if err != nil {
		return res, fmt.Errorf("ravenstack: %w", err)
	}

	later := 0
	err = readTable(path(RavenChurn), []string{"account_id", "churn_date"}, rej, func(t *table) {
		id, ok := known(t, "account_id")
		if !ok {
			return
		}
		d, _ := t.date("churn_date", true)
		if t.bad {
			return
		}
		if prev, seen := res.Churn[id]; seen {
			later++
			if !d.Before(prev) {
				return
			}
		}
		res.Churn[id] = d
	})
	if err != nil {
		return res, fmt.Errorf("ravenstack: %w", err)
	}
	if later > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s: %d churn events are repeat churns of an account; the churn map keeps each account's first churn date", RavenChurn, later))
	}

	// The export's last week bounds every account's history.
	var last time.Time
	for id := range accounts {
		for _, s := range subs[id] {
			last = maxTime(last, s.start, s.end)
		}
		for _, u := range usage[id] {
			last = maxTime(last, u.date)
		}
		for _, k := range tickets[id] {
			last = maxTime(last, k.submitted)
		}
	}
	if last.IsZero() {
		return res, fmt.Errorf("ravenstack: %s holds no dated records", dir)
	}
	lastWeek := snapshot.Monday(last)
	nFeatures := len(features)

	ids := make([]string, 0, len(accounts))
	for id := range accounts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	early := 0
	for _, id := range ids {
		a := accounts[id]
		ss, us, ts := subs[id], usage[id], tickets[id]
		sort.Slice(ss, func(i, j int) bool { return ss[i].start.Before(ss[j].start) })
		sort.Slice(us, func(i, j int) bool { return us[i].date.Before(us[j].date) })
		first := a.signup
		for _, s := range ss {
			first = minTime(first, s.start)
		}
		if len(us) > 0 {
			first = minTime(first, us[0].date)
		}
		for _, k := range ts {
			first = minTime(first, k.submitted)
		}
		if first.IsZero() {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s row %d: account %q has no dated records; no snapshots", RavenAccounts, a.row, id))
			continue
		}
		if !a.signup.IsZero() && first.Before(a.signup) {
			early++
		}
		lang := "en"
		switch a.country {
		case "DE":
			lang = "de"
		case "FR":
			lang = "fr"
		}
		ui := 0
		for w := snapshot.Monday(first); !w.After(lastWeek); w = w.AddDate(0, 0, 7) {
			end := w.AddDate(0, 0, 6)
			s := snapshot.Snapshot{AccountID: id, AccountName: a.name, Week: w, Owner: opts.Owner, Language: lang,
				Extra: map[string]string{"industry": a.industry, "country": a.country}}
			// Current subscription: latest started by the week's end, not ended before it began.
			var cur *ravenSub
			for i := range ss {
				if ss[i].start.After(end) {
					break
				}
				if ss[i].end.IsZero() || !ss[i].end.Before(w) {
					cur = &ss[i]
				}
			}
			downgrade := false
			if cur != nil {
				s.ARR = cur.arr
				if cur.hasSeats {
					s.LicensedSeats = snapshot.Some(cur.seats)
				}
				if cur.billing == "annual" {
					r := cur.start.AddDate(1, 0, 0)
					for !r.After(w) {
						r = r.AddDate(1, 0, 0)
					}
					s.RenewalDate = snapshot.Some(r)
				}
				s.Extra["plan_tier"] = cur.plan
			}
			for i := range ss {
				if ss[i].downgrade && !ss[i].start.Before(w) && !ss[i].start.After(end) {
					downgrade = true
				}
			}
			s.DowngradeRequested = snapshot.Some(downgrade)
			// Usage in the week and features in the trailing 30 days.
			for ui < len(us) && us[ui].date.Before(w) {
				ui++
			}
			logins, errs := 0, 0
			for j := ui; j < len(us) && !us[j].date.After(end); j++ {
				logins++
				errs += us[j].errors
			}
			s.Logins, s.IntegrationErrors = snapshot.Some(logins), snapshot.Some(errs)
			if nFeatures > 0 {
				used := map[string]bool{}
				from := end.AddDate(0, 0, -29)
				for _, u := range us {
					if !u.date.Before(from) && !u.date.After(end) {
						used[u.feature] = true
					}
				}
				s.FeatureAdoption = snapshot.Some(float64(int(float64(len(used))/float64(nFeatures)*1000+0.5)) / 1000)
			}
			// Support at the week's end.
			open, urgent, oldest, esc := 0, 0, 0, 0
			for _, k := range ts {
				if !k.submitted.Before(w) && !k.submitted.After(end) && k.escalated {
					esc++
				}
				if k.submitted.After(end) || (!k.closed.IsZero() && !k.closed.After(end)) {
					continue
				}
				open++
				if k.urgent {
					urgent++
				}
				oldest = max(oldest, int(end.Sub(k.submitted).Hours()/24))
			}
			s.OpenTickets, s.CriticalOpenTickets = snapshot.Some(open), snapshot.Some(urgent)
			s.OldestOpenTicketDays, s.Escalations = snapshot.Some(oldest), snapshot.Some(esc)
			res.Rows = append(res.Rows, s)
		}
	}
	if early > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d accounts have usage, tickets or subscriptions dated before their signup_date (a known defect of this synthetic data); their weeks start at the earliest record", early))
	}
	return res, nil
}

func maxTime(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}

// minTime returns the earlier of two times, ignoring zero ones.
func minTime(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}
