package risk

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
)

// How the model reads a history
//
// Every window is counted in calendar weeks back from the scored week (a
// week with no row is unknown, never zero). Trends compare the recent window
// (windows.recent_weeks, default 4) with the median of the account's own
// baseline (the windows.baseline_weeks before it, default 8). A trend needs
// persistence: at least windows.persistence_weeks (default 3) of the recent
// weeks must each be down by windows.persistence_share (default half) of the
// signal's threshold, so a holiday week, or a two-week outage, never fires
// while a steady slide (120, 104, 88, 74 logins a week) does. Its size is
// then the latest week's drop (or the recent median's when the latest week
// has recovered), judged against the full threshold. When the history
// reaches back a year (windows.seasonal_weeks), the same weeks last year are
// read too: if they dipped against their own baseline, this year's dip is
// measured against that expected level instead, so a yearly trough is not
// mistaken for churn. A usage decline that has not yet lasted, or that
// recovered in the latest week, is transient and needs another dimension
// to carry an account to elevated (see "Corroboration").
//
// Point-in-time fields (tickets, contact dates, invoice, goal) use their
// latest value within the last windows.stale_weeks weeks (the scored
// week and the one before), never an older one read as current (see "Stale data" in evidence.go); events
// (deactivations, escalations, a departed champion, a downgrade request)
// count within windows.event_weeks; NPS uses the latest answer within
// windows.nps_weeks.
//
// These defaults were checked against simulated portfolios with traps
// (holidays, outages, slow payers, right-sizing): persistence of three weeks
// out of four roughly halved false alarms against two of three, for a few
// points of recall.

// Score assesses one account's history as of the week holding asOf (the
// zero time means the latest week in the history). The history may be in
// any order; rows after asOf are ignored. Rows must belong to one account.
func (m Model) Score(history []snapshot.Snapshot, asOf time.Time) Assessment {
	if !sortedByWeek(history) {
		sorted := slices.Clone(history)
		slices.SortStableFunc(sorted, func(a, b snapshot.Snapshot) int { return a.Week.Compare(b.Week) })
		history = sorted
	}
	return m.ScoreSorted(history, asOf)
}

// ScoreSorted is Score for a history already sorted by week, as
// GroupByAccount returns it; replays call it once per week without copying.
func (m Model) ScoreSorted(history []snapshot.Snapshot, asOf time.Time) Assessment {
	return m.scoreIndexed(history, nil, nil, asOf)
}

// scoreIndexed scores the rows history[idx[0]], history[idx[1]]... (sorted
// by week), or all of history when idx is nil, without copying any row.
// m is a pointer: the scorer keeps it, and a value would be copied to the
// heap on every call.
func (m *Model) scoreIndexed(history []snapshot.Snapshot, idx []int32, peers *peerFactors, asOf time.Time) Assessment {
	sc := scorers.Get().(*scorer)
	buf := sc.sigBuf
	*sc = scorer{sigBuf: buf}
	sc.init(m, history, idx, asOf)
	sc.peerLevels = peers.levels(sc.lang)
	a := sc.assess()
	// Drop the signals' texts and evidence, and the history; keep the array.
	clear(sc.sigs)
	*sc = scorer{sigBuf: sc.sigs[:0]}
	scorers.Put(sc)
	return a
}

func sortedByWeek(h []snapshot.Snapshot) bool {
	for i := 1; i < len(h); i++ {
		if h[i].Week.Before(h[i-1].Week) {
			return false
		}
	}
	return true
}

// scorer holds one account's view while it is being scored.
type scorer struct {
	m       *Model
	rows    []snapshot.Snapshot
	idx     []int32 // the account's rows within rows, by week; nil = all of rows
	n       int
	asOf    time.Time // the scored week's Monday
	asOfDay int64
	end     int // the last row at or before the scored week; -1 for none
	nslots  int
	slots   [maxWindow]int32 // row per week back from the scored week (0 = scored week); -1 = no row
	ly      [maxWindow]int32 // the same weeks windows.seasonal_weeks earlier
	hasLY   bool
	// tslots are the week slots usage trends read, newest first: the
	// recent window then the baseline, year-end weeks left out.
	tslots     [maxWindow]int8
	ntslots    int
	usage      [peerSeries]usageBase           // each trend series' own normal
	peerLevels *[maxWindow][peerSeries]float32 // its peers' level per trend slot and series; nil: no portfolio to compare with
	lang       string                          // the account's language, for its peers
	known      uint32                          // wanted fields known in their windows, not stale
	seen       uint32                          // wanted fields reported anywhere in the week slots
	stale      [len(wantedFields)]int8         // weeks since a stale field was last reported; 0: not stale
	pit        int                             // point-in-time fields are read from the first pit week slots only (see "Stale data")
	sigs       []Signal
	sigBuf     []Signal // sigs' array, kept from account to account: each assessment gets an exact copy
	pts        [len(signalDefs)]int
	// loginWeeks is the whole weeks since anyone logged in, when
	// login_recency scored (see "Corroboration").
	loginWeeks int
	ctxRow     *snapshot.Snapshot
}

// scorers recycles scorer state (a few kilobytes of week slots) across
// accounts; nothing in it outlives a call but the signals, which are not
// reused.
var scorers = sync.Pool{New: func() any { return new(scorer) }}

func (sc *scorer) init(m *Model, rows []snapshot.Snapshot, idx []int32, asOf time.Time) {
	sc.m, sc.rows, sc.idx = m, rows, idx
	sc.n = len(rows)
	if idx != nil {
		sc.n = len(idx)
	}
	if asOf.IsZero() && sc.n > 0 {
		asOf = sc.at(sc.n - 1).Week
	}
	sc.asOf = snapshot.Monday(asOf)
	sc.asOfDay = dayNumber(sc.asOf)
	// The last row at or before the scored week.
	sc.end = sc.n - 1
	for sc.end >= 0 && dayNumber(sc.at(sc.end).Week) > sc.asOfDay {
		sc.end--
	}
	w := m.Windows
	sc.nslots = max(w.RecentWeeks+w.BaselineWeeks, w.EventWeeks)
	if w.SkipYearEnd {
		sc.nslots = min(sc.nslots+yearEndWeeks, maxWindow)
	}
	sc.fillSlots(&sc.slots, sc.end, sc.asOfDay, sc.nslots)
	for k := 0; k < sc.nslots && sc.ntslots < w.RecentWeeks+w.BaselineWeeks; k++ {
		if !w.SkipYearEnd || !isYearEnd(sc.asOfDay-int64(7*k)) {
			sc.tslots[sc.ntslots] = int8(k)
			sc.ntslots++
		}
	}
	if w.SeasonalWeeks > 0 && sc.end >= 0 {
		lyDay := sc.asOfDay - int64(7*w.SeasonalWeeks)
		oldest := lyDay - int64(7*(w.RecentWeeks+w.BaselineWeeks-1))
		if dayNumber(sc.at(0).Week) <= oldest {
			// The first row after last year's week, by binary search.
			i := sort.Search(sc.end+1, func(i int) bool { return dayNumber(sc.at(i).Week) > lyDay })
			sc.fillSlots(&sc.ly, i-1, lyDay, w.RecentWeeks+w.BaselineWeeks)
			sc.hasLY = true
		}
	}
	if sc.end >= 0 {
		sc.ctxRow = sc.at(sc.end)
	}
	// The language as of the scored week: a later row is the future.
	if sc.end >= 0 {
		sc.lang = sc.at(sc.end).Language
	} else if sc.n > 0 {
		sc.lang = sc.at(sc.n - 1).Language
	}
}

// at returns the i-th row of the account's history.
func (sc *scorer) at(i int) *snapshot.Snapshot {
	if sc.idx != nil {
		return &sc.rows[sc.idx[i]]
	}
	return &sc.rows[i]
}

func (sc *scorer) fillSlots(slots *[maxWindow]int32, end int, day int64, n int) {
	for k := range slots {
		slots[k] = -1
	}
	for i := end; i >= 0; i-- {
		k := (day - dayNumber(sc.at(i).Week)) / 7
		if k < 0 {
			continue
		}
		if k >= int64(n) {
			break
		}
		if slots[k] < 0 { // a repeated week: the later row wins
			slots[k] = int32(i)
		}
	}
}

func dayNumber(t time.Time) int64 {
	u := t.Unix()
	if u >= 0 {
		return u / 86400
	}
	return -((-u + 86399) / 86400)
}

func dayTime(day int64) time.Time { return time.Unix(day*86400, 0).UTC() }

// row returns the row of week slot k, or nil.
func (sc *scorer) row(k int) *snapshot.Snapshot {
	if k < 0 || k >= sc.nslots || sc.slots[k] < 0 {
		return nil
	}
	return sc.at(int(sc.slots[k]))
}

// weekLabel is the YYYY-MM-DD of week slot k.
func (sc *scorer) weekLabel(k int) string { return mondayLabel(sc.asOfDay - int64(7*k)) }

// mondayLabels holds the YYYY-MM-DD of every Monday from 1990 to 2100, so
// evidence does not format the same few dates for every account.
var mondayLabels = func() []string {
	labels := make([]string, 0, 5740)
	for d := firstLabelDay; d < dayNumber(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)); d += 7 {
		labels = append(labels, snapshot.FormatDate(dayTime(d)))
	}
	return labels
}()

var firstLabelDay = dayNumber(time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)) // a Monday

// yearEndWeeks is how many weeks can hold a day from December 24 to
// January 1.
const yearEndWeeks = 3

// isYearEnd reports whether the week starting on Monday day holds a day
// from December 24 to January 1.
func isYearEnd(day int64) bool {
	if off := day - firstLabelDay; off >= 0 && off%7 == 0 && off/7 < int64(len(yearEndMondays)) {
		return yearEndMondays[off/7]
	}
	return computeYearEnd(day)
}

// yearEndMondays says, for each Monday of mondayLabels, whether its week is
// a year-end week.
var yearEndMondays = func() []bool {
	out := make([]bool, len(mondayLabels))
	for i := range out {
		out[i] = computeYearEnd(firstLabelDay + int64(7*i))
	}
	return out
}()

func computeYearEnd(day int64) bool {
	for d := day; d < day+7; d++ {
		_, m, dd := dayTime(d).Date()
		if (m == time.December && dd >= 24) || (m == time.January && dd == 1) {
			return true
		}
	}
	return false
}

// dateLabel is snapshot.FormatDate(t), from mondayLabels when t is a
// Monday, as row weeks are. (== and not Equal: t must be the very UTC
// midnight dayTime gives, location included, for the label to be its.)
func dateLabel(t time.Time) string {
	if d := dayNumber(t); dayTime(d) == t {
		return mondayLabel(d)
	}
	return snapshot.FormatDate(t)
}

func mondayLabel(day int64) string {
	if off := day - firstLabelDay; off >= 0 && off%7 == 0 && off/7 < int64(len(mondayLabels)) {
		return mondayLabels[off/7]
	}
	return snapshot.FormatDate(dayTime(day))
}

type getter func(*snapshot.Snapshot) (float64, bool)

func intGetter(f func(*snapshot.Snapshot) snapshot.Opt[int]) getter {
	return func(s *snapshot.Snapshot) (float64, bool) {
		o := f(s)
		return float64(o.V), o.Known
	}
}

func floatGetter(f func(*snapshot.Snapshot) snapshot.Opt[float64]) getter {
	return func(s *snapshot.Snapshot) (float64, bool) {
		o := f(s)
		return o.V, o.Known
	}
}

var (
	getLogins          = intGetter(func(s *snapshot.Snapshot) snapshot.Opt[int] { return s.Logins })
	getActiveUsers     = intGetter(func(s *snapshot.Snapshot) snapshot.Opt[int] { return s.ActiveUsers })
	getSeats           = intGetter(func(s *snapshot.Snapshot) snapshot.Opt[int] { return s.LicensedSeats })
	getDAUMAU          = floatGetter(func(s *snapshot.Snapshot) snapshot.Opt[float64] { return s.DAUMAU })
	getAdoption        = floatGetter(func(s *snapshot.Snapshot) snapshot.Opt[float64] { return s.FeatureAdoption })
	getOpenTickets     = intGetter(func(s *snapshot.Snapshot) snapshot.Opt[int] { return s.OpenTickets })
	getCriticalTickets = intGetter(func(s *snapshot.Snapshot) snapshot.Opt[int] { return s.CriticalOpenTickets })
	getOldestTicket    = intGetter(func(s *snapshot.Snapshot) snapshot.Opt[int] { return s.OldestOpenTicketDays })
	getEscalations     = intGetter(func(s *snapshot.Snapshot) snapshot.Opt[int] { return s.Escalations })
	getIntegrationErrs = intGetter(func(s *snapshot.Snapshot) snapshot.Opt[int] { return s.IntegrationErrors })
	getDeactivated     = intGetter(func(s *snapshot.Snapshot) snapshot.Opt[int] { return s.UsersDeactivated })
	getNPS             = intGetter(func(s *snapshot.Snapshot) snapshot.Opt[int] { return s.NPS })
	getOverdue         = intGetter(func(s *snapshot.Snapshot) snapshot.Opt[int] { return s.OverdueInvoiceDays })
	getTicketsOpened   = intGetter(func(s *snapshot.Snapshot) snapshot.Opt[int] { return s.TicketsOpened })
	getMeetingsMissed  = intGetter(func(s *snapshot.Snapshot) snapshot.Opt[int] { return s.MeetingsMissed })
	getARR             = func(s *snapshot.Snapshot) (float64, bool) { return s.ARR, true }
)

func (sc *scorer) value(k int, get getter) (float64, bool) {
	if s := sc.row(k); s != nil {
		return get(s)
	}
	return 0, false
}

func (sc *scorer) lyValue(k int, get getter) (float64, bool) {
	if !sc.hasLY || sc.ly[k] < 0 {
		return 0, false
	}
	return get(sc.at(int(sc.ly[k])))
}

// current returns the newest known value of a point-in-time field: within
// the first sc.pit week slots, so a stale value is never read as current.
func (sc *scorer) current(get getter) (v float64, k int, ok bool) { return sc.latest(sc.pit, get) }

// latest returns the newest known value within the first n week slots.
func (sc *scorer) latest(n int, get getter) (v float64, k int, ok bool) {
	for k := 0; k < n && k < sc.nslots; k++ {
		if v, ok := sc.value(k, get); ok {
			return v, k, true
		}
	}
	return 0, -1, false
}

func (sc *scorer) assess() Assessment {
	m := sc.m
	a := Assessment{
		AsOf:         mondayLabel(sc.asOfDay),
		ModelVersion: ModelVersion,
		ConfigHash:   m.Hash(),
	}
	if sc.n > 0 {
		last := sc.at(sc.n - 1)
		a.AccountID, a.AccountName, a.Owner = last.AccountID, last.AccountName, last.Owner
	}
	if sc.end >= 0 {
		sc.computeKnown()
	}
	if sc.ctxRow != nil {
		sc.fillContext(&a)
	}
	if sc.end >= 0 {
		sc.usageSignals()
		sc.relationshipSignals()
		sc.supportSignals()
		sc.commercialSignals()
		sc.outcomeSignals()
	}

	a.Dimensions, a.Score = sc.points()

	slices.SortStableFunc(sc.sigs, func(x, y Signal) int { return y.Points - x.Points })
	a.Signals = make([]Signal, len(sc.sigs))
	copy(a.Signals, sc.sigs)
	a.Missing, a.Stale = sc.missing()

	t := m.Thresholds
	switch {
	case a.Score >= t.Critical:
		a.Tier = Critical
	case a.Score >= t.Elevated:
		a.Tier = Elevated
	case a.Score >= t.Watch:
		a.Tier = Watch
	default:
		a.Tier = Healthy
	}
	// Unknown is never healthy: without enough evidence the account is
	// insufficient_evidence, unless what is known already puts it at risk.
	if !a.Tier.AtRisk() && !sc.enoughEvidence() {
		a.Tier = InsufficientEvidence
	}
	a.SLAHours = m.slaHours(a.Tier)
	a.Urgency = m.urgency(a, sc.asOfDay)
	return a
}

// points sums the scored signals into the points per dimension and the
// score: the strongest signal of each group, groups summed within a
// dimension, weighted and capped (and corroborated), plus convergence
// across dimensions. Each Signal keeps its own points, so the signals of a
// capped dimension may add up to more than its dimension shows; every
// signal is listed all the same.
func (sc *scorer) points() (map[string]int, int) {
	m := sc.m
	var dimPts [len(dimensionNames)]float64
	var groupBest [len(signalDefs)]int // indexed by the first def of each group
	for i := range signalDefs {
		if sc.pts[i] == 0 {
			continue
		}
		g := groupLeader(i)
		groupBest[g] = max(groupBest[g], sc.pts[i])
	}
	for g, p := range groupBest {
		if p > 0 {
			dimPts[dimensionIndex(signalDefs[g].dimension)] += float64(p)
		}
	}
	dims := m.dimensionList()
	var capped [len(dimensionNames)]int
	for i, d := range dims {
		capped[i] = min(int(math.Round(dimPts[i]*d.dim.Weight)), d.dim.Cap)
	}
	transient := sc.corroborate(&capped)
	perDim := make(map[string]int, len(dims))
	total, counting := 0, 0
	for i, d := range dims {
		p := capped[i]
		perDim[d.name] = p
		total += p
		if p > 0 && p >= m.Convergence.MinPoints && !(transient && d.name == DimUsage) {
			counting++
		}
	}
	if counting >= m.Convergence.MinDimensions {
		total += (counting - 1) * m.Convergence.PointsPerDimension
	}
	return perDim, min(max(total, 0), 100)
}

// Corroboration
//
// A usage dip alone is the commonest false alarm: a term break, a fiscal
// close, an offsite or a holiday the peers did not share takes 30 to 40%
// off usage for two or three weeks and then recovers, and a goal the CSM
// marks at risk during the dip, a detractor's usual NPS or a stray
// escalation adds a few points. A customer walking away keeps going down,
// or shows it elsewhere too. So a usage decline is transient until
// corroboration.min_series of the usage series have been down together
// (each by windows.persistence_share of its signal's threshold) for
// corroboration.usage_weeks latest weeks in a row; a dip that recovered in
// the latest week has a run of none, whatever the recent median says, and
// so does one series sagging on its own. (Nobody logging in for that many
// weeks is never transient.) A transient decline adds no convergence
// points, since it is not yet independent evidence; and while the other
// dimensions together score fewer than corroboration.min_points, the usage
// dimension counts for at most corroboration.usage_cap points, which
// keeps the account at watch, and its strongest signal says so. Levels
// (seat utilisation, days since the last login) are not declines and are
// never transient. On the simulated battery (backtest/battery_test.go) this
// cut false alarms by half or more on every book, and lifted precision
// above 0.85 on each, for about a week's lead on churners whose only early
// evidence is usage (recall at 30 days 2 to 4 points lower).
//
// A dip is a step: usage falls at once and stays level until it recovers.
// A customer walking away slides: each week is further down than the
// last. So a decline down together for corroboration.deepening_weeks (2)
// latest weeks in a row whose mean drop has grown since the first of them
// by corroboration.deepening_by (0.1 of the signals' thresholds) is not
// transient either (model 1.6; see deepening in detect.go). On the
// battery this won back about 3 points of the share of the recall at 30
// days the onsets allow (0.75 to 0.79 on average over seeds 101-103), at
// no book's precision below 0.82.

// corroborate applies corroboration to the capped dimension points, and
// reports whether the usage decline is transient.
func (sc *scorer) corroborate(dims *[len(dimensionNames)]int) bool {
	c := sc.m.Corroboration
	u := dimensionIndex(DimUsage)
	if c.UsageWeeks == 0 || dims[u] == 0 || !sc.dipScored() {
		return false
	}
	run := max(sc.downRun(c.UsageWeeks), sc.loginWeeks)
	if run >= c.UsageWeeks || sc.deepening(run) {
		return false
	}
	others := 0
	for i, p := range dims {
		if i != u {
			others += p
		}
	}
	if dims[u] <= c.UsageCap || others >= c.MinPoints {
		return true
	}
	dims[u] = c.UsageCap
	top := -1
	for i := range sc.sigs {
		if sc.sigs[i].Dimension == DimUsage && (top < 0 || sc.sigs[i].Points > sc.sigs[top].Points) {
			top = i
		}
	}
	if top >= 0 {
		lasted := "not down together in the latest week"
		if run > 0 {
			lasted = "down together only " + plural(run, "week", "weeks") + " in a row"
		}
		until := plural(c.UsageWeeks, "week", "weeks") + " in a row"
		if c.DeepeningWeeks > 0 {
			until += " (" + strconv.Itoa(c.DeepeningWeeks) + " while it deepens)"
		}
		sc.sigs[top].Text += " Usage counts for at most " + strconv.Itoa(c.UsageCap) + " points until it has been down " +
			until + " or the other dimensions reach " + strconv.Itoa(c.MinPoints) +
			": the usage series are " + lasted + " and the other dimensions score " + strconv.Itoa(others) + " (a dip that recovers is no decline)."
	}
	return true
}

// dipScored reports whether a usage decline (a trend or a slide, not a
// level such as seat utilisation) scored: only a decline can be transient.
func (sc *scorer) dipScored() bool {
	for i := range signalDefs {
		switch signalDefs[i].id {
		case SigLoginDrop, SigActiveUsersDrop, SigDAUMAUDecline, SigFeatureAdoptionDecline, SigUsageSlide:
			if sc.pts[i] > 0 {
				return true
			}
		}
	}
	return false
}

// groupLeader returns the index of the first def in def i's group.
func groupLeader(i int) int {
	for j := 0; j < i; j++ {
		if signalDefs[j].group == signalDefs[i].group && signalDefs[j].dimension == signalDefs[i].dimension {
			return j
		}
	}
	return i
}

// emit records a signal. Signals scoring no points are dropped unless they
// must always be flagged.
func (sc *scorer) emit(id string, points int, text string, ev Evidence) {
	sc.record(id, points, text, ev, false)
}

// list records a signal for no points: worth a CSM's reading, not a risk.
func (sc *scorer) list(id, text string, ev Evidence) { sc.record(id, 0, text, ev, true) }

func (sc *scorer) record(id string, points int, text string, ev Evidence, listed bool) {
	for i := range signalDefs {
		if signalDefs[i].id != id {
			continue
		}
		if points <= 0 && !signalDefs[i].alwaysFlag && !listed {
			return
		}
		sc.pts[i] = max(points, 0)
		if sc.sigs == nil {
			sc.sigs = sc.sigBuf[:0]
		}
		sc.sigs = append(sc.sigs, Signal{ID: id, Dimension: signalDefs[i].dimension, Points: max(points, 0), Text: text, Evidence: ev})
		return
	}
}

func (sc *scorer) fillContext(a *Assessment) {
	r := sc.ctxRow
	a.AccountID, a.AccountName, a.Owner, a.ARR = r.AccountID, r.AccountName, r.Owner, r.ARR
	lookback := sc.m.Windows.RecentWeeks + sc.m.Windows.BaselineWeeks
	renewal, strategic, goal, lang := false, false, false, false
	for k := 0; k < lookback; k++ {
		s := sc.row(k)
		if s == nil {
			continue
		}
		if !renewal && s.RenewalDate.Known {
			a.RenewalDate, renewal = dateLabel(s.RenewalDate.V), true
		}
		if !strategic && s.Strategic.Known {
			a.Strategic, strategic = s.Strategic.V, true
		}
		if !goal && s.SuccessGoal != "" {
			a.SuccessGoal, goal = s.SuccessGoal, true
		}
		if !lang && s.Language != "" {
			a.Language, lang = s.Language, true
		}
		if a.ContactEmail == "" && s.ContactEmail != "" {
			a.ContactEmail = s.ContactEmail
		}
		if k < sc.pit && a.GoalStatus == "" && s.GoalStatus != "" {
			a.GoalStatus = s.GoalStatus
		}
		if s.Notes != "" && len(a.Notes) < maxNotes {
			a.Notes = append(a.Notes, dateLabel(s.Week)+": "+s.Notes)
		}
	}
}

// maxNotes is how many recent CRM notes travel with an assessment.
const maxNotes = 3

func (m Model) slaHours(t Tier) int {
	switch t {
	case Critical:
		return m.SLAHours.Critical
	case Elevated:
		return m.SLAHours.Elevated
	case Watch:
		return m.SLAHours.Watch
	case InsufficientEvidence:
		return m.SLAHours.InsufficientEvidence
	}
	return 0
}

// peer is the level the account's peers were at in trend slot i of
// series si (1 = their normal).
func (sc *scorer) peer(i, si int) float64 {
	if sc.peerLevels == nil {
		return 1
	}
	return float64(sc.peerLevels[i][si])
}

// medianAt is the median of get over the given week slots, skipping the
// weeks that do not report it, and how many did: unknown weeks are left
// out, never read as zero.
func (sc *scorer) medianAt(get getter, slots []int8) (float64, int) {
	var buf [maxWindow]float64
	n := 0
	for _, k := range slots {
		if v, ok := sc.value(int(k), get); ok {
			buf[n] = v
			n++
		}
	}
	return median(buf[:n]), n
}

// medianOver is medianAt over the week slots from up to (not including) to.
func (sc *scorer) medianOver(get getter, from, to int) (float64, int) {
	var slots [maxWindow]int8
	n := 0
	for k := from; k < to && n < maxWindow; k++ {
		slots[n] = int8(k)
		n++
	}
	return sc.medianAt(get, slots[:n])
}

// median sorts xs in place and returns its median.
func median(xs []float64) float64 {
	n := len(xs)
	switch n {
	case 0:
		return 0
	case 4:
		sort4((*[4]float64)(xs))
	case 8:
		sort8((*[8]float64)(xs))
	case 12:
		sort12((*[12]float64)(xs))
	default:
		for i := 1; i < n; i++ {
			for j := i; j > 0 && xs[j] < xs[j-1]; j-- {
				xs[j], xs[j-1] = xs[j-1], xs[j]
			}
		}
	}
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// num writes a count without decimals (one for a small median of halves;
// the evidence keeps the exact value) and a fraction with two.
func num(v float64, fraction bool) string {
	if fraction {
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	if v == math.Trunc(v) || math.Abs(v) >= 10 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func pct(f float64) string { return strconv.Itoa(int(math.Round(f*100))) + "%" }

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
