package risk

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/simulate"
)

func TestZZDiag(t *testing.T) {
	if os.Getenv("DIAG") == "" {
		t.Skip()
	}
	m := DefaultModel()
	var out strings.Builder
	for seed := int64(1); seed <= 3; seed++ {
		opts := simulate.Options{Accounts: 400, Weeks: 52, Seed: seed, Start: time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC), ChurnRate: 0.15}
		rows, churn := simulate.Portfolio(opts)
		plans := simulate.Accounts(opts)
		cm := map[string]simulate.Churn{}
		for _, c := range churn {
			cm[c.AccountID] = c
		}
		pm := map[string]simulate.Account{}
		for _, a := range plans {
			pm[a.ID] = a
		}
		for _, h := range GroupByAccount(rows) {
			id := h[0].AccountID
			c, isC := cm[id]
			if isC {
				fmt.Fprintf(&out, "C %d/%s onset=%dd quiet=%v pats=%v\n", seed, id, int(c.Date.Sub(c.Onset).Hours()/24), c.Quiet, c.Patterns)
				for i := 3; i < len(h); i++ {
					lead := int(c.Date.Sub(h[i].Week).Hours() / 24)
					if lead > 120 {
						continue
					}
					a := m.ScoreSorted(h[:i+1], h[i].Week)
					var sigs []string
					for _, s := range a.Signals {
						sigs = append(sigs, fmt.Sprintf("%s:%d", s.ID, s.Points))
					}
					fmt.Fprintf(&out, "   %4d %3d %-9s %s\n", lead, a.Score, a.Tier, strings.Join(sigs, " "))
				}
			} else {
				best, bw := Assessment{}, ""
				for i := 3; i < len(h); i++ {
					a := m.ScoreSorted(h[:i+1], h[i].Week)
					if a.Score > best.Score {
						best, bw = a, a.AsOf
					}
				}
				var sigs []string
				for _, s := range best.Signals {
					sigs = append(sigs, fmt.Sprintf("%s:%d", s.ID, s.Points))
				}
				var traps []string
				for _, tr := range pm[id].Traps {
					traps = append(traps, string(tr.Trap))
				}
				sort.Strings(traps)
				fmt.Fprintf(&out, "S %d/%s max=%d %s traps=%v %s\n", seed, id, best.Score, bw, traps, strings.Join(sigs, " "))
			}
		}
	}
	os.WriteFile("/tmp/diag/out.txt", []byte(out.String()), 0o644)
}

func TestZZBook(t *testing.T) {
	if os.Getenv("DIAG") == "" {
		t.Skip()
	}
	for _, a := range DefaultModel().ScorePortfolio(simulate.Book(), simulate.BookWeek) {
		var sigs []string
		for _, s := range a.Signals {
			sigs = append(sigs, fmt.Sprintf("%s:%d", s.ID, s.Points))
		}
		t.Logf("%s %-28s %3d %-10s %s", a.AccountID, a.AccountName, a.Score, a.Tier, strings.Join(sigs, " "))
	}
}
