package simulate

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
)

//go:generate go run ./cmd/examplegen -dir ../examples

// BookWeek is the last week of the example book: the week the README
// scores as of.
var BookWeek = time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)

// BookOptions are the options the example book is generated with: 50
// accounts, 12 weeks ending on BookWeek.
func BookOptions() Options {
	return Options{Accounts: 50, Weeks: 12, Start: BookWeek.AddDate(0, 0, -7*11), Seed: 20261116,
		Owners: []string{"dana", "li.wei", "marco", "priya"}}
}

// The example book's cast, by account position. Everyone else is an
// ordinary healthy account. The mix is meant to score about 4 critical,
// 6 elevated, 10 watch, 28 healthy and 2 insufficient evidence under the
// default model as of BookWeek; the churners among them are still in
// decline at the last week, so the book carries no churn outcomes.
var bookCast = map[int]func(a *Account, at func(weeksAfterEnd int) time.Time){
	// Critical: three more churners deep in decline (one with the hostile note,
	// one Chinese-speaking).
	7: func(a *Account, at func(int) time.Time) {
		a.Churn = &ChurnPlan{Date: at(5), OnsetWeeks: 14, Depth: 0.75,
			Patterns: []Pattern{UsageDecay, MeetingsLapse, InvoiceOverdue, ChampionLost, Downgrade}}
		a.Renewal, a.Hostile = a.Churn.Date, true
	},
	19: func(a *Account, at func(int) time.Time) {
		a.Churn = &ChurnPlan{Date: at(6), OnsetWeeks: 15, Depth: 0.75,
			Patterns: []Pattern{UsageDecay, SponsorSilence, NPSDrop, IntegrationFailing, GoalOffTrack}}
		a.Language, a.Name, a.Renewal = "zh", "上海云帆数据", a.Churn.Date
	},
	33: func(a *Account, at func(int) time.Time) {
		a.Churn = &ChurnPlan{Date: at(7), OnsetWeeks: 16, Depth: 0.75,
			Patterns: []Pattern{UsageDecay, SupportTrouble, Deactivations, SponsorSilence, Downgrade}}
	},
	// Elevated: churners a few weeks into their decline, two dimensions showing.
	3: func(a *Account, at func(int) time.Time) {
		a.Churn = &ChurnPlan{Date: at(5), OnsetWeeks: 10, Depth: 0.6,
			Patterns: []Pattern{UsageDecay, SponsorSilence}, Starts: map[Pattern]int{SponsorSilence: 3}}
	},
	12: func(a *Account, at func(int) time.Time) {
		a.Churn = &ChurnPlan{Date: at(8), OnsetWeeks: 14, Depth: 0.5,
			Patterns: []Pattern{SupportTrouble, GoalOffTrack, MeetingsLapse},
			Starts:   map[Pattern]int{SupportTrouble: 6, GoalOffTrack: 5, MeetingsLapse: 4}}
		a.Language = "de"
	},
	21: func(a *Account, at func(int) time.Time) {
		a.Churn = &ChurnPlan{Date: at(6), OnsetWeeks: 11, Depth: 0.7,
			Patterns: []Pattern{UsageDecay, Deactivations}, Starts: map[Pattern]int{Deactivations: 7}}
	},
	26: func(a *Account, at func(int) time.Time) {
		a.Churn = &ChurnPlan{Date: at(8), OnsetWeeks: 16, Depth: 0.5,
			Patterns: []Pattern{SponsorSilence, NPSDrop, GoalOffTrack},
			Starts:   map[Pattern]int{SponsorSilence: 2, NPSDrop: 8, GoalOffTrack: 7}}
		a.Surveyed = true
	},
	38: func(a *Account, at func(int) time.Time) {
		a.Churn = &ChurnPlan{Date: at(6), OnsetWeeks: 11, Depth: 0.65,
			Patterns: []Pattern{UsageDecay, Downgrade}, Starts: map[Pattern]int{Downgrade: 6}}
		a.Language = "fr"
	},
	45: func(a *Account, at func(int) time.Time) {
		a.Churn = &ChurnPlan{Date: at(7), OnsetWeeks: 14, Depth: 0.55,
			Patterns: []Pattern{InvoiceOverdue, SponsorSilence, UsageDecay},
			Starts:   map[Pattern]int{InvoiceOverdue: 2, SponsorSilence: 2}}
	},
	// Watch: false-alarm traps at the end of the window (two of them, since
	// model 1.1 sees through a lone trap, stacked on a second one), and two
	// churners whose decline has only just begun.
	2:  trapAt(RightSizing, 9),
	5:  trapAt(ChampionReplaced, 9, GoalWobble, 10),
	9:  trapAt(QuarterlySponsor, 0, GoalWobble, 10),
	14: trapAt(Detractor, 0, LongLowTicket, 8),
	17: trapAt(ErrorSpike, 10, GoalWobble, 10),
	24: trapAt(SeasonalDip, 10),
	29: func(a *Account, at func(int) time.Time) {
		a.Churn = &ChurnPlan{Date: at(12), OnsetWeeks: 17, Depth: 0.5,
			Patterns: []Pattern{SponsorSilence, GoalOffTrack}, Starts: map[Pattern]int{SponsorSilence: 4, GoalOffTrack: 9}}
	},
	36: func(a *Account, at func(int) time.Time) {
		a.Churn = &ChurnPlan{Date: at(12), OnsetWeeks: 16, Depth: 0.5,
			Patterns: []Pattern{SupportTrouble, UsageDecay}, Starts: map[Pattern]int{SupportTrouble: 7}}
	},
	41: trapAt(SlowPayer, 0, BadWeek, 11),
	48: trapAt(ErrorSpike, 10, Detractor, 0),
	22: trapAt(Detractor, 0, GoalWobble, 10),
	// Healthy accounts with traps the model should see through.
	10: trapAt(SlowPayer, 0),
	16: trapAt(BadWeek, 11),
	27: trapAt(GoalWobble, 4),
	39: trapAt(LongLowTicket, 6),
	// Insufficient evidence: no usage data at all.
	31: func(a *Account, _ func(int) time.Time) { a.NoUsage = true },
	43: func(a *Account, _ func(int) time.Time) { a.NoUsage = true },
}

// trapAt returns a cast function that gives an account traps, as pairs of
// (trap, week index).
func trapAt(pairs ...any) func(a *Account, _ func(int) time.Time) {
	return func(a *Account, _ func(int) time.Time) {
		for i := 0; i+1 < len(pairs); i += 2 {
			a.Traps = append(a.Traps, TrapAt{Trap: pairs[i].(Trap), Week: pairs[i+1].(int)})
		}
	}
}

// Book builds the example portfolio (examples/portfolio.csv): 50 invented
// accounts over 12 weeks ending on BookWeek, led by the textbook critical
// case, Northwind Freight.
func Book() []snapshot.Snapshot {
	opts := BookOptions().withDefaults()
	rng := rand.New(rand.NewPCG(uint64(opts.Seed), 0xB00C))
	used := map[string]bool{"Northwind Freight": true, "上海云帆数据": true}
	weeks := opts.WeekList()
	end := weeks[len(weeks)-1]
	at := func(weeksAfterEnd int) time.Time { return end.AddDate(0, 0, 7*weeksAfterEnd+2) }
	accounts := make([]Account, opts.Accounts)
	for i := range accounts {
		a := RandomAccount(rng, i, opts, used)
		a.Owner = opts.Owners[i%len(opts.Owners)]
		a.SlowPayer = false
		if i == 0 {
			a.Name, a.Owner, a.Language = "Northwind Freight", "dana", "en"
		}
		if cast, ok := bookCast[i]; ok {
			cast(&a, at)
		}
		a.applyTraps(rng)
		accounts[i] = a
	}
	rows, _ := Generate(accounts, opts)
	textbook(rows, accounts[0].ID, weeks)
	return rows
}

// textbook rewrites the first account into the case the product docs
// describe: logins down 38% in three weeks, the sponsor silent for six
// weeks, a critical ticket open 47 days, three users deactivated and the
// renewal 67 days out.
func textbook(rows []snapshot.Snapshot, id string, weeks []time.Time) {
	end := weeks[len(weeks)-1]
	logins := []int{121, 118, 124, 119, 122, 117, 123, 120, 120, 104, 88, 74}
	active := []int{38, 37, 39, 38, 38, 37, 38, 38, 37, 34, 31, 27}
	ticketOpened := end.AddDate(0, 0, -47)
	for i := range rows {
		s := &rows[i]
		if s.AccountID != id {
			continue
		}
		t := int(s.Week.Sub(weeks[0]).Hours() / (24 * 7))
		s.AccountName, s.Owner, s.Language = "Northwind Freight", "dana", "en"
		s.ARR = 84000
		s.LicensedSeats = snapshot.Some(48)
		s.Logins = snapshot.Some(logins[t])
		s.ActiveUsers = snapshot.Some(active[t])
		s.DAUMAU = snapshot.Some([]float64{0.41, 0.4, 0.42, 0.41, 0.41, 0.4, 0.41, 0.4, 0.4, 0.36, 0.33, 0.29}[t])
		s.FeatureAdoption = snapshot.Some([]float64{0.62, 0.62, 0.63, 0.62, 0.62, 0.61, 0.61, 0.6, 0.6, 0.58, 0.55, 0.52}[t])
		s.RenewalDate = snapshot.Some(end.AddDate(0, 0, 67))
		s.LastExecContact = snapshot.Some(end.AddDate(0, 0, -42))
		if s.Week.Before(end.AddDate(0, 0, -42)) {
			s.LastExecContact = snapshot.Some(s.Week.AddDate(0, 0, -3))
		}
		s.LastCSMMeeting = snapshot.Some(s.Week.AddDate(0, 0, -10))
		s.OpenTickets, s.CriticalOpenTickets, s.OldestOpenTicketDays = snapshot.Some(1), snapshot.Some(0), snapshot.Some(4)
		if !s.Week.Before(snapshot.Monday(ticketOpened)) {
			age := int(s.Week.Sub(ticketOpened).Hours() / 24)
			s.OpenTickets, s.CriticalOpenTickets, s.OldestOpenTicketDays = snapshot.Some(2), snapshot.Some(1), snapshot.Some(max(age, 0))
		}
		s.Escalations = snapshot.Some(0)
		if s.Week.Equal(end.AddDate(0, 0, -14)) {
			s.Escalations = snapshot.Some(1)
		}
		s.IntegrationErrors = snapshot.Some([]int{0, 1, 0, 0, 2, 0, 1, 0, 3, 3, 3, 3}[t])
		s.UsersDeactivated = snapshot.Some(0)
		if t == len(weeks)-1 {
			s.UsersDeactivated = snapshot.Some(3)
		}
		s.ChampionDeparted = snapshot.Some(false)
		s.NPS = snapshot.Opt[int]{}
		s.OverdueInvoiceDays = snapshot.Some(0)
		s.DowngradeRequested = snapshot.Some(false)
		s.SuccessGoal = "Reduce shipment exceptions by 30%"
		s.GoalStatus = snapshot.GoalOnTrack
		if t >= len(weeks)-3 {
			s.GoalStatus = snapshot.GoalAtRisk
		}
		s.Notes = ""
		switch t {
		case 3:
			s.Notes = "QBR with VP Operations Karen Ruiz (karen.ruiz@northwind-freight.example, +1 415 555 0142); renewal to be discussed in December."
		case 8:
			s.Notes = "Critical ticket on the carrier-rate import still open; customer chasing."
		case 10:
			s.Notes = "Sent two follow-ups to Karen Ruiz; no reply."
		case 11:
			s.Notes = "Admin deactivated three dispatcher accounts; says the team is 'trying another tool for rates'."
		}
	}
}

// HistoryOptions are the options of the example backtest history
// (examples/history.csv with examples/churn.csv): 60 accounts over 36
// weeks ending on BookWeek.
func HistoryOptions() Options {
	return Options{Accounts: 60, Weeks: 36, Start: BookWeek.AddDate(0, 0, -7*35), Seed: 7,
		ChurnRate: 0.2, Owners: []string{"dana", "li.wei", "marco", "priya"}}
}

// BadRowsCSV is a small snapshot file with a few invalid rows among valid
// ones, for showing how rejections are reported.
const BadRowsCSV = `account_id,account_name,week,owner,arr,renewal_date,logins,active_users,licensed_seats,dau_mau,nps,overdue_invoice_days,last_exec_contact,goal_status
A-9001,Quillon Legal,2026-11-09,marco,42000,2027-03-01,210,30,35,0.44,8,0,2026-11-02,on_track
A-9001,Quillon Legal,2026-11-16,marco,42000,2027-03-01,198,29,35,0.43,,0,2026-11-02,on_track
A-9002,Umber Clinics,2026-11-16,priya,,2027-01-15,90,14,20,0.3,7,0,2026-10-20,on_track
A-9003,Fernhill Retail,2026-11-16,li.wei,18000,2027-02-01,55,9,12,1.7,9,0,2026-11-10,on_track
A-9004,Zephyr Media,2026-11-31,dana,26000,2027-05-01,70,11,15,0.38,6,0,2026-11-01,on_track
A-9005,Birchmont Travel,2026-11-16,dana,31000,2027-04-01,120,20,25,0.41,12,0,2026-11-12,on_track
A-9001,Quillon Legal,2026-11-18,marco,42000,2027-03-01,201,30,35,0.44,8,0,2026-11-02,on_track
A-9006,Keystone Vale Energy,2026-11-16,priya,56000,2027-06-30,-4,18,40,0.35,8,0,2026-11-13,on_track
A-9007,Saltmarsh Foods,2026-11-16,,23000,2027-02-14,64,10,14,0.33,,0,2026-11-05,on_track
A-9008,Pinecrest Labs,2026-11-16,li.wei,15000,2027-01-09,48,8,10,0.37,9,0,2026-11-11,on_track
`

// ExampleFiles renders every example file, keyed by its name under
// examples/. The test in this package checks the committed files match.
func ExampleFiles() (map[string][]byte, error) {
	files := map[string][]byte{}
	var buf bytes.Buffer
	if err := snapshot.WriteCSV(&buf, Book()); err != nil {
		return nil, fmt.Errorf("portfolio.csv: %w", err)
	}
	files["portfolio.csv"] = bytes.Clone(buf.Bytes())
	rows, churn := Portfolio(HistoryOptions())
	buf.Reset()
	if err := snapshot.WriteCSV(&buf, rows); err != nil {
		return nil, fmt.Errorf("history.csv: %w", err)
	}
	files["history.csv"] = bytes.Clone(buf.Bytes())
	buf.Reset()
	if err := WriteChurnCSV(&buf, churn); err != nil {
		return nil, fmt.Errorf("churn.csv: %w", err)
	}
	files["churn.csv"] = bytes.Clone(buf.Bytes())
	files["bad_rows.csv"] = []byte(BadRowsCSV)
	return files, nil
}
