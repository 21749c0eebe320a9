package simulate

import (
	"math"
	"math/rand/v2"
	"time"
)

// Pattern is one way a churner's decline shows in its data.
type Pattern string

const (
	UsageDecay         Pattern = "usage_decay"         // logins, active users and stickiness fall
	SponsorSilence     Pattern = "sponsor_silence"     // the executive sponsor stops replying
	MeetingsLapse      Pattern = "meetings_lapse"      // CSM meetings get cancelled
	SupportTrouble     Pattern = "support_trouble"     // a critical ticket stays open, escalations
	NPSDrop            Pattern = "nps_drop"            // a low survey answer
	Downgrade          Pattern = "downgrade"           // asks to cut seats
	GoalOffTrack       Pattern = "goal_off_track"      // the success goal slips
	InvoiceOverdue     Pattern = "invoice_overdue"     // stops paying
	Deactivations      Pattern = "deactivations"       // users are switched off week after week
	ChampionLost       Pattern = "champion_lost"       // the champion leaves and nobody replaces them
	IntegrationFailing Pattern = "integration_failing" // syncs fail and stay failing
)

// patternOdds is how often a warning churner shows each pattern.
var patternOdds = []struct {
	p    Pattern
	odds float64
}{
	{UsageDecay, 0.75}, {SponsorSilence, 0.55}, {MeetingsLapse, 0.35}, {SupportTrouble, 0.4},
	{NPSDrop, 0.35}, {Downgrade, 0.25}, {GoalOffTrack, 0.45}, {InvoiceOverdue, 0.2},
	{Deactivations, 0.4}, {ChampionLost, 0.2}, {IntegrationFailing, 0.15},
}

// Trap is an episode in a staying account that looks like trouble.
type Trap string

const (
	SlowPayer        Trap = "slow_payer"        // pays every invoice 15-30 days late
	RightSizing      Trap = "right_sizing"      // cuts unused seats, stays
	ChampionReplaced Trap = "champion_replaced" // champion leaves, a successor takes over
	BadWeek          Trap = "bad_week"          // one week of half usage (offsite, outage)
	SeasonalDip      Trap = "seasonal_dip"      // three slow weeks (term break, fiscal close)
	Detractor        Trap = "detractor"         // answers NPS 4-6 every time, renews anyway
	LongLowTicket    Trap = "long_low_ticket"   // a low-priority ticket open for two months
	GoalWobble       Trap = "goal_wobble"       // goal at risk for a few weeks, recovers
	ErrorSpike       Trap = "error_spike"       // integration errors for two weeks, then fixed
	QuarterlySponsor Trap = "quarterly_sponsor" // the sponsor only meets at QBRs
	UsageFeedGap     Trap = "usage_feed_gap"    // usage export broken for two weeks
)

var trapKinds = []Trap{SlowPayer, RightSizing, ChampionReplaced, BadWeek, SeasonalDip, Detractor,
	LongLowTicket, GoalWobble, ErrorSpike, QuarterlySponsor, UsageFeedGap}

// TrapAt places a trap at a week index of the window.
type TrapAt struct {
	Trap Trap
	Week int
}

// ChurnPlan is how and when an account leaves.
type ChurnPlan struct {
	Date       time.Time // the day it leaves; rows stop the week before
	OnsetWeeks int       // weeks of decline before the churn week
	Patterns   []Pattern
	Quiet      bool    // little or no warning
	Depth      float64 // share of usage lost by the churn week under UsageDecay
	// Shape bends the decline: 1 is linear, above 1 starts slow and
	// accelerates, below 1 drops early then flattens (default 1.2).
	Shape float64
	// Starts optionally fixes the week index each pattern begins at;
	// patterns not in it start staggered through the onset.
	Starts map[Pattern]int
}

// Account is one customer's plan: who they are, how they normally behave,
// and what happens to them in the window.
type Account struct {
	ID, Name, Owner, Language, Goal string
	Strategic                       bool
	Seats                           int
	PricePerSeat                    float64 // per seat per year
	Renewal                         time.Time

	ActiveShare   float64 // share of seats active in a normal week
	LoginsPerUser float64 // logins per active user per week
	DAUMAU        float64
	Adoption      float64
	Growth        float64 // weekly usage trend, e.g. 0.004

	ExecEveryWeeks float64 // mean weeks between sponsor replies
	MeetEveryWeeks float64 // mean weeks between CSM meetings
	TicketsPerWeek float64
	ErrorsPerWeek  float64

	Surveyed    bool // answers NPS surveys
	NPS         int  // their usual answer
	SurveyPhase int

	NoDAUMAU, NoAdoption, NoGoalStatus bool
	NoUsage                            bool // usage never reported: no analytics connected
	SlowPayer                          bool

	Traps   []TrapAt
	Churn   *ChurnPlan
	Hostile bool // one CRM note tries to instruct the system
	Contact bool // CRM notes carry contact details
}

// Accounts plans opts.Accounts random accounts.
func Accounts(opts Options) []Account {
	opts = opts.withDefaults()
	rng := rand.New(rand.NewPCG(uint64(opts.Seed), 0xC0FFEE))
	weeks := opts.WeekList()
	used := map[string]bool{}
	n := opts.Accounts
	churners := map[int]bool{}
	for _, i := range rng.Perm(n)[:int(math.Round(float64(n)*opts.ChurnRate))] {
		churners[i] = true
	}
	out := make([]Account, n)
	hostile := false
	for i := range out {
		a := RandomAccount(rng, i, opts, used)
		if churners[i] {
			a.Churn = planChurn(rng, weeks, opts.QuietRate, opts.OnsetWeeks)
			if rng.Float64() < 0.75 {
				a.Renewal = a.Churn.Date
			}
			if !hostile && !a.Churn.Quiet {
				a.Hostile, hostile = true, true
			}
		} else {
			if rng.Float64() < opts.TrapRate {
				a.Traps = append(a.Traps, randomTrap(rng, len(weeks), opts.TrapKinds))
				if rng.Float64() < 0.3 {
					a.Traps = append(a.Traps, randomTrap(rng, len(weeks), opts.TrapKinds))
				}
			}
			if rng.Float64() < 0.015 {
				a.NoUsage = true
			}
		}
		a.applyTraps(rng)
		out[i] = a
	}
	return out
}

// RandomAccount draws an ordinary account: size, price, habits, language
// and owner. It has no churn plan and no traps.
func RandomAccount(rng *rand.Rand, i int, opts Options, used map[string]bool) Account {
	opts = opts.withDefaults()
	lang := "en"
	switch r := rng.Float64(); {
	case r < 0.07:
		lang = "de"
	case r < 0.13:
		lang = "fr"
	case r < 0.20:
		lang = "zh"
	}
	var seats int
	switch r := rng.Float64(); {
	case r < 0.45:
		seats = 10 + rng.IntN(35)
	case r < 0.85:
		seats = 45 + rng.IntN(160)
	default:
		seats = 200 + rng.IntN(1100)
	}
	price := float64(300 + 50*rng.IntN(19))
	a := Account{
		ID:             idFor(i),
		Name:           companyName(rng, lang, used),
		Owner:          opts.Owners[rng.IntN(len(opts.Owners))],
		Language:       lang,
		Goal:           successGoals[rng.IntN(len(successGoals))],
		Strategic:      seats >= 400 && rng.Float64() < 0.5,
		Seats:          seats,
		PricePerSeat:   price,
		Renewal:        opts.Start.AddDate(0, 0, 14+rng.IntN(360)),
		ActiveShare:    0.55 + 0.35*rng.Float64(),
		LoginsPerUser:  3 + 6*rng.Float64(),
		DAUMAU:         0.2 + 0.4*rng.Float64(),
		Adoption:       0.4 + 0.45*rng.Float64(),
		Growth:         0.006 * (rng.Float64() - 0.35),
		ExecEveryWeeks: 2 + 3*rng.Float64(),
		MeetEveryWeeks: 1 + 2.5*rng.Float64(),
		TicketsPerWeek: (0.2 + 0.8*rng.Float64()) * math.Sqrt(float64(seats)/50),
		ErrorsPerWeek:  2 * rng.Float64(),
		Surveyed:       rng.Float64() < 0.55,
		NPS:            7 + rng.IntN(4),
		SurveyPhase:    rng.IntN(13),
		NoDAUMAU:       rng.Float64() < 0.1,
		NoAdoption:     rng.Float64() < 0.15,
		NoGoalStatus:   rng.Float64() < 0.1,
		SlowPayer:      rng.Float64() < 0.12,
		Contact:        rng.Float64() < 0.3,
	}
	return a
}

func idFor(i int) string { return "A-" + itoa(1001+i) }

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func planChurn(rng *rand.Rand, weeks []time.Time, quietRate float64, onset [2]int) *ChurnPlan {
	w := len(weeks)
	lo, hi := max(1, onset[0]), max(1, onset[0], onset[1])
	c := &ChurnPlan{OnsetWeeks: lo + rng.IntN(hi-lo+1), Depth: 0.35 + 0.45*rng.Float64(), Shape: 0.6 + rng.Float64()}
	if rng.Float64() < quietRate {
		c.Quiet = true
		c.OnsetWeeks = 1 + rng.IntN(2)
	} else {
		for _, po := range patternOdds {
			if rng.Float64() < po.odds {
				c.Patterns = append(c.Patterns, po.p)
			}
		}
		for len(c.Patterns) < 2 {
			p := patternOdds[rng.IntN(len(patternOdds))].p
			if !hasPattern(c.Patterns, p) {
				c.Patterns = append(c.Patterns, p)
			}
		}
	}
	// Churn inside the window, after enough history to see a baseline.
	first := min(c.OnsetWeeks+6, w-1)
	idx := first + rng.IntN(max(1, w-first))
	c.Date = weeks[idx].AddDate(0, 0, rng.IntN(7))
	return c
}

func hasPattern(ps []Pattern, p Pattern) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// randomTrap draws a trap of one of kinds (every kind when empty).
func randomTrap(rng *rand.Rand, weeks int, kinds []Trap) TrapAt {
	if len(kinds) == 0 {
		kinds = trapKinds
	}
	return TrapAt{Trap: kinds[rng.IntN(len(kinds))], Week: 2 + rng.IntN(max(1, weeks-3))}
}

// applyTraps folds the traps that change an account's habits (rather than
// one episode) into its plan.
func (a *Account) applyTraps(rng *rand.Rand) {
	for _, t := range a.Traps {
		switch t.Trap {
		case SlowPayer:
			a.SlowPayer = true
		case Detractor:
			a.Surveyed, a.NPS = true, 4+rng.IntN(3)
		case QuarterlySponsor:
			a.ExecEveryWeeks = 10 + 3*rng.Float64()
		}
	}
}

func (a *Account) trap(kind Trap) (week int, ok bool) {
	for _, t := range a.Traps {
		if t.Trap == kind {
			return t.Week, true
		}
	}
	return 0, false
}
