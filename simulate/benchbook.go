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
	seed := uint64(0x9E3779B97F4A7C15)
	rnd := func(n int) int { // xorshift64*: deterministic and cheap
		seed ^= seed >> 12
		seed ^= seed << 25
		seed ^= seed >> 27
		return int((seed * 2685821657736338717) >> 33 % uint64(n))
	}
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	var b []byte
	for a := 0; a < accounts; a++ {
		id := "ACC-" + strconv.Itoa(100000+a)
		name := "Company " + strconv.Itoa(a)
		owner := "csm" + strconv.Itoa(a%80)
		arr := 5000 + rnd(400)*1000
		seats := 10 + rnd(200)
		baseLogins := seats * (3 + rnd(5))
		declining := a%10 == 0
		renewal := snapshot.FormatDate(start.AddDate(0, 0, 30+rnd(400)))
		for wk := 0; wk < weeks; wk++ {
			week := start.AddDate(0, 0, 7*wk)
			factor := 100
			if declining && wk >= weeks-3 {
				factor = 100 - 20*(wk-(weeks-4))
			}
			b = b[:0]
			b = append(b, id...)
			b = append(b, ',')
			b = append(b, name...)
			b = append(b, ',')
			b = append(b, snapshot.FormatDate(week)...)
			b = append(b, ',')
			b = append(b, owner...)
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(arr), 10)
			b = append(b, ',')
			b = append(b, renewal...)
			b = append(b, ',')
			if rnd(50) != 0 { // 2% unknown
				b = strconv.AppendInt(b, int64(baseLogins*factor/100*(90+rnd(21))/100), 10)
			}
			b = append(b, ',')
			active := seats * (60 + rnd(20)) / 100 * factor / 100
			b = strconv.AppendInt(b, int64(active), 10)
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(seats), 10)
			b = append(b, ',')
			b = strconv.AppendFloat(b, float64(30+rnd(20))/100*float64(factor)/100, 'f', 3, 64)
			b = append(b, ',')
			b = strconv.AppendFloat(b, float64(40+rnd(40))/100, 'f', 2, 64)
			b = append(b, ',')
			open := rnd(4)
			b = strconv.AppendInt(b, int64(open), 10)
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(rnd(30)/29), 10)
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(rnd(20)*min(open, 1)), 10)
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(rnd(40)/39), 10)
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(rnd(5)), 10)
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(rnd(30)/28), 10)
			b = append(b, ",false,"...)
			b = append(b, snapshot.FormatDate(week.AddDate(0, 0, -rnd(40)))...)
			b = append(b, ',')
			b = append(b, snapshot.FormatDate(week.AddDate(0, 0, -rnd(30)))...)
			b = append(b, ',')
			if wk%6 == 0 {
				b = strconv.AppendInt(b, int64(5+rnd(6)), 10)
			}
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(rnd(10)/9*30), 10)
			b = append(b, ",false,reduce ticket backlog,on_track,"...)
			if rnd(20) == 0 {
				b = append(b, `"Call went well, asked about SSO"`...)
			}
			b = append(b, '\n')
			if _, err := bw.Write(b); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}
