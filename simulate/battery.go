package simulate

import "time"

// BatteryBook is one book of the evaluation battery: a name, and how its
// Options differ from the tuning book's (400 accounts x 52 weeks from
// June, onsets of 4 to 16 weeks).
type BatteryBook struct {
	Name string
	Opts func(*Options)
}

// Battery lists the books unlike the tuning book a model must hold its
// precision and false-alarm rate on: onset, noise, seasonality, size, mix
// of failure modes and columns. backtest replays the model over them and
// calibrate fits it on them, so both read this one list.
var Battery = []BatteryBook{
	{"tuning-like", func(*Options) {}},
	{"onset 8-20 weeks", func(o *Options) { o.OnsetWeeks = [2]int{8, 20} }},
	{"onset 2-8 weeks", func(o *Options) { o.OnsetWeeks = [2]int{2, 8} }},
	{"noisy: 8% blanks, traps on 80%", func(o *Options) { o.MissingRate, o.TrapRate = 0.08, 0.8 }},
	{"seasonal: dips that recover", func(o *Options) {
		o.TrapRate, o.TrapKinds = 0.7, []Trap{SeasonalDip, BadWeek, GoalWobble, UsageFeedGap}
	}},
	{"commercial traps", func(o *Options) {
		o.TrapRate, o.TrapKinds = 0.7, []Trap{SlowPayer, RightSizing, Detractor, ChampionReplaced}
	}},
	{"year from January", func(o *Options) { o.Start = time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC) }},
	{"quiet churners 30%", func(o *Options) { o.QuietRate = 0.3 }},
	{"small: 50 accounts", func(o *Options) { o.Accounts = 50 }},
	{"large: 4000 accounts", func(o *Options) { o.Accounts = 4000 }},
	{"optional columns", func(o *Options) { o.Extended = true }},
	{"noise only: no churner", func(o *Options) { o.ChurnRate, o.TrapRate = 1e-9, 0.6 }},
	// Two years: the second reads the same weeks of the first (seasonal
	// allowance), the shared holidays twice.
	{"two years, from June", func(o *Options) { o.Weeks = 104 }},
}

// HugeBook is the battery's book of 100,000 accounts: minutes and about
// 13 GB to replay, so it runs only when asked for.
var HugeBook = BatteryBook{"huge: 100k accounts", func(o *Options) { o.Accounts = 100000 }}
