package draft

import (
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/churnwatch/churnwatch/risk"
)

// evidence is the assessment seen as the ground truth a draft may quote:
// the ids it may cite, the numbers and dates it may print.
type evidence struct {
	signals       map[string]risk.Signal
	ordered       []risk.Signal // most points first, then by id
	numbers       []float64     // every number in the evidence, deduplicated
	dates         map[string]bool
	daysToRenewal int
	hasRenewal    bool
}

func newEvidence(a risk.Assessment) *evidence {
	e := &evidence{signals: make(map[string]risk.Signal, len(a.Signals)), dates: map[string]bool{}}
	e.ordered = append([]risk.Signal(nil), a.Signals...)
	sort.SliceStable(e.ordered, func(i, j int) bool {
		if e.ordered[i].Points != e.ordered[j].Points {
			return e.ordered[i].Points > e.ordered[j].Points
		}
		return e.ordered[i].ID < e.ordered[j].ID
	})

	nums := map[float64]bool{}
	addNum := func(v float64) {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			nums[v] = true
		}
	}
	addText := func(s string) {
		for _, d := range dateRE.FindAllString(s, -1) {
			e.dates[d] = true
		}
		for _, n := range extractNumbers(s) {
			addNum(n.value)
		}
	}

	for _, s := range a.Signals {
		e.signals[s.ID] = s
		addNum(float64(s.Points))
		addText(s.Text)
		addText(s.Evidence.Window)
		addText(s.ID)
		for _, w := range s.Evidence.Weeks {
			e.dates[w] = true
		}
		for _, v := range s.Evidence.Values {
			addNum(v)
		}
	}
	for _, v := range []float64{float64(a.Score), float64(a.Priority), float64(a.SLAHours), a.ARR} {
		addNum(v)
	}
	for _, v := range a.Dimensions {
		addNum(float64(v))
	}
	for _, s := range append([]string{a.AccountID, a.AccountName, a.Owner, a.SuccessGoal}, a.Missing...) {
		addText(s)
	}
	if a.AsOf != "" {
		e.dates[a.AsOf] = true
	}
	if a.RenewalDate != "" {
		e.dates[a.RenewalDate] = true
		if days, ok := daysBetween(a.AsOf, a.RenewalDate); ok {
			e.daysToRenewal, e.hasRenewal = days, true
			addNum(float64(days))
		}
	}
	for n := range nums {
		e.numbers = append(e.numbers, n)
	}
	sort.Float64s(e.numbers)
	return e
}

func daysBetween(from, to string) (int, bool) {
	f, err1 := time.Parse(time.DateOnly, from)
	t, err2 := time.Parse(time.DateOnly, to)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return int(t.Sub(f).Hours() / 24), true
}

// planConstants are numbers a plan, agenda or email may use without evidence:
// day numbers of a two-week plan and ordinary meeting lengths in minutes.
var planConstants = func() []float64 {
	c := []float64{15, 20, 30, 45, 60}
	for d := 0; d <= 14; d++ {
		c = append(c, float64(d))
	}
	return c
}()

// allows reports whether n matches a number in the evidence. A fraction may
// be quoted as a percentage (0.42 as 42%), any value may be rounded to two
// decimals or fewer, and an amount written with k or M may be rounded to
// within 5%.
func (e *evidence) allows(n number, extra []float64) bool {
	x := math.Abs(n.value)
	match := func(a float64) bool {
		a = math.Abs(a)
		for _, c := range []float64{a, a * 100} {
			for _, digits := range []float64{1, 10, 100} {
				if math.Abs(math.Round(c*digits)/digits-x) < 1e-9 {
					return true
				}
			}
			if math.Abs(c-x) < 1e-9 {
				return true
			}
		}
		if n.scaled && a >= 1000 && math.Abs(a-x)/a < 0.05 {
			return true
		}
		return false
	}
	for _, a := range e.numbers {
		if match(a) {
			return true
		}
	}
	for _, a := range extra {
		if math.Abs(a-x) < 1e-9 {
			return true
		}
	}
	return false
}

// number is a figure read from draft text.
type number struct {
	text   string
	value  float64
	scaled bool // written with a k, M or 万 suffix
}

var (
	dateRE = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}\b`)
	// A number not glued to a preceding letter, digit or underscore (so Q3,
	// B2B and EMAIL_1 are not figures), with optional thousands separators,
	// decimals and a scale suffix. The leading group eats the boundary
	// character because Go's regexp has no look-behind.
	numberRE = regexp.MustCompile(`(?:^|[^A-Za-z0-9_.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?:\s?([kK]|[mM]|万)\b)?`)
)

// extractNumbers reads the figures in s. Dates are read as dates elsewhere
// and skipped here.
func extractNumbers(s string) []number {
	s = dateRE.ReplaceAllString(s, " ")
	var out []number
	for _, m := range numberRE.FindAllStringSubmatch(s, -1) {
		text := m[1] + m[2]
		v, err := strconv.ParseFloat(strings.ReplaceAll(text, ",", ""), 64)
		if err != nil {
			continue
		}
		n := number{text: text + m[3], value: v}
		switch m[3] {
		case "k", "K":
			n.value, n.scaled = v*1e3, true
		case "m", "M":
			n.value, n.scaled = v*1e6, true
		case "万":
			n.value, n.scaled = v*1e4, true
		}
		out = append(out, n)
	}
	return out
}

// evidenceDoc is the evidence as the LLM sees it: the assessment's facts
// under the id "account", and its signals with their source evidence.
type evidenceDoc struct {
	Account struct {
		EvidenceID    string         `json:"evidence_id"`
		AccountID     string         `json:"account_id"`
		AccountName   string         `json:"account_name"`
		Owner         string         `json:"owner"`
		AsOf          string         `json:"as_of"`
		Tier          risk.Tier      `json:"tier"`
		Score         int            `json:"score"`
		Priority      int            `json:"priority"`
		SLAHours      int            `json:"sla_hours"`
		ARR           float64        `json:"arr"`
		RenewalDate   string         `json:"renewal_date,omitempty"`
		DaysToRenewal *int           `json:"days_to_renewal,omitempty"`
		Strategic     bool           `json:"strategic,omitempty"`
		SuccessGoal   string         `json:"success_goal,omitempty"`
		GoalStatus    string         `json:"goal_status,omitempty"`
		Language      string         `json:"language,omitempty"`
		Dimensions    map[string]int `json:"dimensions,omitempty"`
	} `json:"account"`
	Signals []risk.Signal `json:"signals"`
	Missing []string      `json:"missing_evidence"` // unknown, not zero
}

func newEvidenceDoc(a risk.Assessment, owner string, e *evidence) evidenceDoc {
	var d evidenceDoc
	d.Account.EvidenceID = AccountEvidenceID
	d.Account.AccountID = a.AccountID
	d.Account.AccountName = a.AccountName
	d.Account.Owner = owner
	d.Account.AsOf = a.AsOf
	d.Account.Tier = a.Tier
	d.Account.Score = a.Score
	d.Account.Priority = a.Priority
	d.Account.SLAHours = a.SLAHours
	d.Account.ARR = a.ARR
	d.Account.RenewalDate = a.RenewalDate
	if e.hasRenewal {
		days := e.daysToRenewal
		d.Account.DaysToRenewal = &days
	}
	d.Account.Strategic = a.Strategic
	d.Account.SuccessGoal = a.SuccessGoal
	d.Account.GoalStatus = a.GoalStatus
	d.Account.Language = a.Language
	d.Account.Dimensions = a.Dimensions
	d.Signals = e.ordered
	d.Missing = a.Missing
	if d.Missing == nil {
		d.Missing = []string{}
	}
	if d.Signals == nil {
		d.Signals = []risk.Signal{}
	}
	return d
}
