package summary

import (
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/churnwatch/churnwatch/prompts"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
)

// maxIncompleteListed bounds the incomplete packets the Markdown lists; the
// JSON lists them all.
const maxIncompleteListed = 25

// Markdown renders the summary for people: a weekly note a CS leader can
// paste into a doc.
func (s Summary) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Churn risk summary: week of %s\n\n", s.Week)
	fmt.Fprintf(&b, "%d accounts scored. **ARR at risk (elevated + critical): %s**", s.Accounts, prompts.FormatMoney(s.ARRAtRisk))
	if s.Change != nil {
		fmt.Fprintf(&b, " (%s since %s)", signedMoney(s.Change.ARRAtRisk), s.PreviousWeek)
	}
	b.WriteString(".\n\n## Tiers\n\n")
	if s.Change != nil {
		fmt.Fprintf(&b, "| Tier | Accounts | ARR | Change in accounts | Change in ARR |\n|---|---:|---:|---:|---:|\n")
	} else {
		b.WriteString("| Tier | Accounts | ARR |\n|---|---:|---:|\n")
	}
	for _, row := range s.tierRows() {
		fmt.Fprintf(&b, "| %s | %d | %s |", row.tier, row.count, prompts.FormatMoney(row.arr))
		if s.Change != nil {
			fmt.Fprintf(&b, " %+d | %s |", row.dCount, signedMoney(row.dARR))
		}
		b.WriteByte('\n')
	}
	if s.Change == nil {
		b.WriteString("\nNo earlier scored week to compare with.\n")
	}

	b.WriteString("\n## Largest accounts at risk\n\n")
	if len(s.TopAtRisk) == 0 {
		b.WriteString("No account is elevated or critical this week.\n")
	} else {
		b.WriteString("| Account | Owner | Tier | Score | ARR | Renewal | Review |\n|---|---|---|---:|---:|---|---|\n")
		for _, a := range s.TopAtRisk {
			fmt.Fprintf(&b, "| %s | %s | %s | %d | %s | %s | %s |\n", cell(a.AccountName+" ("+a.AccountID+")"), cell(a.Owner),
				a.Tier, a.Score, prompts.FormatMoney(a.ARR), orDash(a.RenewalDate), orDash(strings.TrimSpace(a.ReviewState+" "+a.ReviewID)))
		}
	}

	iv := s.Interventions
	fmt.Fprintf(&b, "\n## Reviews and interventions (reviews of cycles through %s)\n\n", s.Week)
	fmt.Fprintf(&b, "- Reviews opened: %d; decided: %d; awaiting a decision: %d; escalated: %d\n", s.Reviews, iv.Decided, iv.AwaitingDecision, iv.Escalated)
	fmt.Fprintf(&b, "- Outreach approved: %d; rejected as not at risk: %d; actions assigned: %d\n", iv.OutreachApproved, iv.Rejected, iv.ActionsAssigned)
	fmt.Fprintf(&b, "- Outreach sent: %d; customer responded: %d\n", iv.OutreachSent, iv.CustomerReplied)
	o := s.Outcomes
	fmt.Fprintf(&b, "- Outcomes: saved %d, churned %d, still at risk %d, false positive %d, pending %d\n", o.Saved, o.Churned, o.StillAtRisk, o.FalsePositive, o.Pending)

	b.WriteString("\n## Measures\n\n")
	fmt.Fprintf(&b, "- Save rate (saved / saved + churned): %s\n", percent(s.SaveRate, "no saved or churned outcome yet"))
	fmt.Fprintf(&b, "- False-positive rate (rejected or found false positive / decided): %s\n", percent(s.FalsePositiveRate, "no decision yet"))
	if s.MedianDaysFlagToOutreach != nil {
		fmt.Fprintf(&b, "- Median days from flag to approved outreach: %.1f\n", *s.MedianDaysFlagToOutreach)
	} else {
		b.WriteString("- Median days from flag to approved outreach: unknown (no approved outreach yet)\n")
	}
	fmt.Fprintf(&b, "- Approved outreach within %d days of the flag: %s\n", OutreachWindowDays, percent(s.OutreachWithinWindowRate, "no approved outreach yet"))

	pc := s.PacketCompleteness
	b.WriteString("\n## Decision packets\n\n")
	fmt.Fprintf(&b, "Complete packets (all eight parts) for elevated and critical accounts: %d of %d, %s.\n",
		pc.Complete, pc.AtRisk, percent(pc.Rate, "no account at risk"))
	if len(pc.Incomplete) > 0 {
		b.WriteString("\n| Account | Tier | Review | Missing |\n|---|---|---|---|\n")
		for i, p := range pc.Incomplete {
			if i == maxIncompleteListed {
				fmt.Fprintf(&b, "\n...and %d more (see `starter audit packets --json`).\n", len(pc.Incomplete)-i)
				break
			}
			rid := p.ReviewID
			if rid == "" {
				rid = "no review"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", cell(p.AccountName+" ("+p.AccountID+")"), p.Tier, cell(rid), strings.Join(p.Missing, ", "))
		}
	}
	return b.String()
}

type tierRow struct {
	tier          risk.Tier
	count, dCount int
	arr, dARR     float64
}

func (s Summary) tierRows() []tierRow {
	var d Change
	if s.Change != nil {
		d = *s.Change
	}
	return []tierRow{
		{risk.Critical, s.Tiers.Critical, d.Tiers.Critical, s.ARRByTier.Critical, d.ARRByTier.Critical},
		{risk.Elevated, s.Tiers.Elevated, d.Tiers.Elevated, s.ARRByTier.Elevated, d.ARRByTier.Elevated},
		{risk.Watch, s.Tiers.Watch, d.Tiers.Watch, s.ARRByTier.Watch, d.ARRByTier.Watch},
		{risk.Healthy, s.Tiers.Healthy, d.Tiers.Healthy, s.ARRByTier.Healthy, d.ARRByTier.Healthy},
		{risk.InsufficientEvidence, s.Tiers.InsufficientEvidence, d.Tiers.InsufficientEvidence, s.ARRByTier.InsufficientEvidence, d.ARRByTier.InsufficientEvidence},
	}
}

// CSV renders the tier table: one row per tier with its accounts and ARR and,
// when there is a previous scored week, the change (empty cells otherwise:
// unknown is not zero).
func (s Summary) CSV() string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write([]string{"week", "tier", "accounts", "arr", "previous_week", "accounts_change", "arr_change"})
	for _, row := range s.tierRows() {
		rec := []string{s.Week, string(row.tier), strconv.Itoa(row.count), num(row.arr), s.PreviousWeek, "", ""}
		if s.Change != nil {
			rec[5], rec[6] = strconv.Itoa(row.dCount), num(row.dARR)
		}
		w.Write(rec)
	}
	w.Flush()
	return b.String()
}

// RiskRegisterCSV writes the risk register: one row per assessment, in the
// order given (priority order, as scored), with the account's review from
// packets (its latest cycle) when there is one.
func RiskRegisterCSV(w io.Writer, as []risk.Assessment, packets []review.Packet) error {
	latest := latestPacketByAccount(packets)
	cw := csv.NewWriter(w)
	cw.Write([]string{"account_id", "account_name", "owner", "tier", "score", "priority", "arr", "renewal_date",
		"top_signals", "missing", "review_id", "review_state", "decision", "follow_up_date"})
	for _, a := range as {
		rec := []string{text(a.AccountID), text(a.AccountName), text(a.Owner), string(a.Tier), strconv.Itoa(a.Score),
			strconv.Itoa(a.Priority), num(a.ARR), a.RenewalDate, text(topSignals(a.Signals, 3)), strings.Join(a.Missing, " "),
			"", "", "", ""}
		if p, ok := latest[a.AccountID]; ok {
			rec[10], rec[11], rec[13] = text(p.ReviewID), string(p.State), p.FollowUpDate
			if p.Decision != nil {
				rec[12] = string(p.Decision.Kind) + " by " + text(p.Decision.Actor)
			}
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write risk register: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write risk register: %w", err)
	}
	return nil
}

// topSignals joins the texts of the n signals with the most points.
func topSignals(sigs []risk.Signal, n int) string {
	idx := make([]int, len(sigs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return sigs[idx[i]].Points > sigs[idx[j]].Points })
	var parts []string
	for _, i := range idx[:min(n, len(idx))] {
		parts = append(parts, sigs[i].Text)
	}
	return strings.Join(parts, "; ")
}

// text guards a free-text cell against spreadsheet formula injection: names
// and notes come from customer data, and a cell starting with = + - @ would
// run as a formula when a leader opens the export.
func text(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func signedMoney(f float64) string {
	if f >= 0 {
		return "+" + prompts.FormatMoney(f)
	}
	return prompts.FormatMoney(f)
}

func percent(r *float64, unknown string) string {
	if r == nil {
		return "unknown (" + unknown + ")"
	}
	return strconv.FormatFloat(*r*100, 'f', 1, 64) + "%"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cell keeps a value from breaking a Markdown table.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.Join(strings.Fields(s), " ")
}
