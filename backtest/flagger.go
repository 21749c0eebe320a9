package backtest

import (
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
)

// Flagger is any flagging rule: as of asOf, seeing only the rows of t up to
// asOf, it says which of the due accounts (by id) it flags, one bool each.
// It lets a rule that is not a risk.Model (a calibration candidate, a
// learned baseline) be measured with exactly the definitions above.
type Flagger func(t *snapshot.Table, asOf time.Time, ids []string) []bool

// RunFlagger replays f over the rows of t week by week and measures it
// against churn, like RunTable. It has no signals, so FirstSignals* stay
// empty, and no baseline is run beside it.
func RunFlagger(f Flagger, t *snapshot.Table, churn map[string]time.Time, opts Options) Result {
	rule := func(t *snapshot.Table, asOf time.Time, due []*account) []verdict {
		ids := make([]string, len(due))
		for i, a := range due {
			ids[i] = a.id
		}
		flags := f(t, asOf, ids)
		out := make([]verdict, len(due))
		for i := range out {
			out[i].flagged = i < len(flags) && flags[i]
		}
		return out
	}
	return replay(rule, t, churn, opts)
}
