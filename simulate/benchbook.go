package simulate

import (
	"bufio"
	"io"
	"strconv"
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
)

// WriteBenchmarkBook writes a deterministic portfolio of accounts x weeks in
// the canonical format: steady accounts with noise, a tenth declining over
// the last weeks, a few unknown cells, the odd note. It is the book the
// speed and memory benchmarks measure (100,000 accounts x 12 weeks), fast to
// write and the same on every machine; Portfolio is the realistic one.
func WriteBenchmarkBook(w io.Writer, accounts, weeks int) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString("account_id,account_name,week,owner,arr,renewal_date,logins,active_users,licensed_seats,dau_mau,feature_adoption," +
		"open_tickets,critical_open_tickets,oldest_open_ticket_days,escalations,integration_errors,users_deactivated," +
		"champion_departed,last_exec_contact,last_csm_meeting,nps,overdue_invoice_days,downgrade_requested,success_goal,goal_status,notes\n")
	g := benchBook{seed: 0x9E3779B97F4A7C15, start: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), weeks: weeks}
	var b []byte
	for a := 0; a < accounts; a++ {
		acct := g.account(a)
		for wk := 0; wk < weeks; wk++ {
			b = g.appendWeek(b[:0], &acct, wk)
			if _, err := bw.Write(b); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

// benchBook draws the benchmark book's values from one deterministic
// stream, in the order the rows are written.
type benchBook struct {
	seed  uint64
	start time.Time
	weeks int
}

// rnd is xorshift64*: deterministic and cheap.
func (g *benchBook) rnd(n int) int {
	g.seed ^= g.seed >> 12
	g.seed ^= g.seed << 25
	g.seed ^= g.seed >> 27
	return int((g.seed * 2685821657736338717) >> 33 % uint64(n))
}

// benchAccount is what stays the same across an account's weeks.
type benchAccount struct {
	id, name, owner, renewal string
	arr, seats, baseLogins   int
	declining                bool
}

func (g *benchBook) account(a int) benchAccount {
	acct := benchAccount{id: "ACC-" + strconv.Itoa(100000+a), name: "Company " + strconv.Itoa(a), owner: "csm" + strconv.Itoa(a%80)}
	acct.arr = 5000 + g.rnd(400)*1000
	acct.seats = 10 + g.rnd(200)
	acct.baseLogins = acct.seats * (3 + g.rnd(5))
	acct.declining = a%10 == 0
	acct.renewal = snapshot.FormatDate(g.start.AddDate(0, 0, 30+g.rnd(400)))
	return acct
}

// appendWeek appends the account's row of week wk: a tenth of the accounts
// lose a fifth of their usage a week over the last weeks.
func (g *benchBook) appendWeek(b []byte, acct *benchAccount, wk int) []byte {
	week := g.start.AddDate(0, 0, 7*wk)
	factor := 100
	if acct.declining && wk >= g.weeks-3 {
		factor = 100 - 20*(wk-(g.weeks-4))
	}
	b = append(b, acct.id...)
	b = append(b, ',')
	b = append(b, acct.name...)
	b = append(b, ',')
	b = append(b, snapshot.FormatDate(week)...)
	b = append(b, ',')
	b = append(b, acct.owner...)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(acct.arr), 10)
	b = append(b, ',')
	b = append(b, acct.renewal...)
	b = append(b, ',')
	if g.rnd(50) != 0 { // 2% unknown
		b = strconv.AppendInt(b, int64(acct.baseLogins*factor/100*(90+g.rnd(21))/100), 10)
	}
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(acct.seats*(60+g.rnd(20))/100*factor/100), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(acct.seats), 10)
	b = append(b, ',')
	b = strconv.AppendFloat(b, float64(30+g.rnd(20))/100*float64(factor)/100, 'f', 3, 64)
	b = append(b, ',')
	b = strconv.AppendFloat(b, float64(40+g.rnd(40))/100, 'f', 2, 64)
	b = append(b, ',')
	return g.appendSupport(b, week, wk)
}

// appendSupport appends the rest of a row: tickets, relationship,
// commercial and outcome fields, the odd note.
func (g *benchBook) appendSupport(b []byte, week time.Time, wk int) []byte {
	open := g.rnd(4)
	b = strconv.AppendInt(b, int64(open), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(g.rnd(30)/29), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(g.rnd(20)*min(open, 1)), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(g.rnd(40)/39), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(g.rnd(5)), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(g.rnd(30)/28), 10)
	b = append(b, ",false,"...)
	b = append(b, snapshot.FormatDate(week.AddDate(0, 0, -g.rnd(40)))...)
	b = append(b, ',')
	b = append(b, snapshot.FormatDate(week.AddDate(0, 0, -g.rnd(30)))...)
	b = append(b, ',')
	if wk%6 == 0 {
		b = strconv.AppendInt(b, int64(5+g.rnd(6)), 10)
	}
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(g.rnd(10)/9*30), 10)
	b = append(b, ",false,reduce ticket backlog,on_track,"...)
	if g.rnd(20) == 0 {
		b = append(b, `"Call went well, asked about SSO"`...)
	}
	return append(b, '\n')
}
