package snapshot

import (
	"encoding/csv"
	"io"
	"sort"
	"strconv"
	"time"
)

// WriteCSV writes rows in the canonical format: the header lists every
// field in Fields order, then any extra columns the rows carry (sorted by
// name). Unknown values are empty cells. The ExtensionFields are written
// only when some row knows one of them, so a book of v1 data is written as
// it always was. What it writes reads back through ReadFiles to the same
// rows.
func WriteCSV(w io.Writer, rows []Snapshot) error {
	extraSet := map[string]bool{}
	extended := false
	for i := range rows {
		for k := range rows[i].Extra {
			extraSet[k] = true
		}
		extended = extended || hasExtension(&rows[i])
	}
	extra := make([]string, 0, len(extraSet))
	for k := range extraSet {
		extra = append(extra, k)
	}
	sort.Strings(extra)

	cw := csv.NewWriter(w)
	header := make([]string, 0, int(numFields)+len(extra))
	if extended {
		header = append(header, Fields[:]...)
	} else {
		header = append(header, Fields[:firstExtension]...)
	}
	header = append(header, extra...)
	if err := cw.Write(header); err != nil {
		return err
	}
	record := make([]string, len(header))
	for i := range rows {
		s := &rows[i]
		record = record[:0]
		record = append(record,
			s.AccountID, s.AccountName, FormatDate(s.Week), s.Owner,
			strconv.FormatFloat(s.ARR, 'f', -1, 64),
			optDate(s.RenewalDate),
			optInt(s.Logins), optInt(s.ActiveUsers), optInt(s.LicensedSeats),
			optFloat(s.DAUMAU), optFloat(s.FeatureAdoption),
			optInt(s.OpenTickets), optInt(s.CriticalOpenTickets), optInt(s.OldestOpenTicketDays),
			optInt(s.Escalations), optInt(s.IntegrationErrors),
			optInt(s.UsersDeactivated), optBool(s.ChampionDeparted),
			optDate(s.LastExecContact), optDate(s.LastCSMMeeting), optInt(s.NPS),
			optInt(s.OverdueInvoiceDays), optBool(s.DowngradeRequested),
			s.SuccessGoal, s.GoalStatus, s.Notes,
			optBool(s.Strategic), s.Language,
		)
		if extended {
			record = append(record, optInt(s.TicketsOpened), optDate(s.LastLoginDate), optDate(s.NPSSurveySent), optInt(s.MeetingsMissed), s.ContactEmail)
		}
		for _, k := range extra {
			record = append(record, s.Extra[k])
		}
		if err := cw.Write(record); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func optInt(o Opt[int]) string {
	if !o.Known {
		return ""
	}
	return strconv.Itoa(o.V)
}

func optFloat(o Opt[float64]) string {
	if !o.Known {
		return ""
	}
	return strconv.FormatFloat(o.V, 'f', -1, 64)
}

func optBool(o Opt[bool]) string {
	if !o.Known {
		return ""
	}
	return strconv.FormatBool(o.V)
}

func optDate(o Opt[time.Time]) string {
	if !o.Known {
		return ""
	}
	return FormatDate(o.V)
}

// hasExtension reports whether s knows any of the ExtensionFields.
func hasExtension(s *Snapshot) bool {
	return s.TicketsOpened.Known || s.LastLoginDate.Known || s.NPSSurveySent.Known || s.MeetingsMissed.Known || s.ContactEmail != ""
}
