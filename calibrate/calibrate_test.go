package calibrate

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/churnwatch/churnwatch/backtest"
	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/simulate"
	"github.com/churnwatch/churnwatch/snapshot"
)

func column(t *testing.T, id string) int {
	t.Helper()
	i := slices.Index(signalIDs(risk.DefaultModel()), id)
	if i < 0 {
		t.Fatalf("no signal %s", id)
	}
	return i
}

// plantedBook is a synthetic book: login_drop fires more often before
// churn (the current model's view), goal_off_track far more often (more
// predictive than its points say), seat_utilisation_low as often either
// way (useless), and nps_low only on accounts that stay (protective).
func plantedBook(t *testing.T) *book {
	base, useful, useless, protective := column(t, "login_drop"), column(t, "goal_off_track"), column(t, "seat_utilisation_low"), column(t, "nps_low")
	r := rand.New(rand.NewPCG(1, 2))
	b := &book{index: map[string]int32{}, at: map[weekKey]int{}}
	for a := range 600 {
		churner := a%3 == 0
		b.ids, b.churner = append(b.ids, "A"), append(b.churner, churner)
		for w := range 20 {
			s := sample{account: int32(a), label: churner && w >= 10}
			fire := func(col int, p float64, pts float64) {
				if r.Float64() < p {
					s.cols, s.pts = append(s.cols, int32(col)), append(s.pts, pts)
				}
			}
			fire(base, pick(s.label, 0.5, 0.1), 14)
			fire(useful, pick(s.label, 0.5, 0.02), 18)
			fire(useless, 0.3, 3)
			fire(protective, pick(churner, 0, 0.3), 6)
			b.samples = append(b.samples, s)
		}
	}
	return b
}

func pick(c bool, yes, no float64) float64 {
	if c {
		return yes
	}
	return no
}

func TestFitRecoversPlantedWeights(t *testing.T) {
	b := plantedBook(t)
	ncol := len(signalIDs(risk.DefaultModel()))
	fit := fitMultipliers(b.samples, ncol, 30, 3)
	m := func(id string) float64 { return fit.Multipliers[column(t, id)] }
	t.Logf("multipliers: login_drop %.3f, goal_off_track %.3f, seat_utilisation_low %.3f, nps_low %.3f",
		m("login_drop"), m("goal_off_track"), m("seat_utilisation_low"), m("nps_low"))
	if m("goal_off_track") < 1.2 {
		t.Errorf("predictive signal: multiplier %.3f, want well above 1", m("goal_off_track"))
	}
	if m("seat_utilisation_low") > 0.7 {
		t.Errorf("useless signal: multiplier %.3f, want well below 1", m("seat_utilisation_low"))
	}
	if m("nps_low") != 0 {
		t.Errorf("protective signal: multiplier %.3f, want 0 (points are never negative)", m("nps_low"))
	}
	if m("arr_decline") != 1 {
		t.Errorf("a signal never seen keeps its points: multiplier %.3f", m("arr_decline"))
	}
	for i, k := range fit.Multipliers {
		if k < 0 || k > 3 {
			t.Errorf("column %d: multiplier %v outside [0, 3]", i, k)
		}
	}
	prop, changes := applyMultipliers(risk.DefaultModel(), fit.Multipliers)
	if err := prop.Validate(); err != nil {
		t.Fatalf("proposed model: %v", err)
	}
	for _, c := range changes {
		switch c.Signal {
		case "goal_off_track":
			if c.ProposedPoints <= c.Points {
				t.Errorf("goal_off_track: %d -> %d points, want more", c.Points, c.ProposedPoints)
			}
		case "seat_utilisation_low":
			if c.ProposedSevere >= c.SeverePoints {
				t.Errorf("seat_utilisation_low: severe %d -> %d points, want fewer", c.SeverePoints, c.ProposedSevere)
			}
		}
		if !c.YesNo && c.ProposedSevere < c.ProposedPoints {
			t.Errorf("%s: severe points %d below points %d", c.Signal, c.ProposedSevere, c.ProposedPoints)
		}
	}

	// A strong pull toward the current points keeps them.
	held := fitMultipliers(b.samples, ncol, 1e7, 3)
	for i, k := range held.Multipliers {
		if math.Abs(k-1) > 0.05 {
			t.Errorf("ridge 1e7, column %d: multiplier %.3f, want about 1", i, k)
		}
	}
	// Cross-validation picks a ridge from the grid that does not undo the
	// planted signal.
	if r := chooseRidge(b, ncol, 3, 1, cvFolds); !slices.Contains(ridgeGrid, r) || fitMultipliers(b.samples, ncol, r, 3).Multipliers[column(t, "goal_off_track")] <= 1 {
		t.Errorf("chooseRidge = %v", r)
	}
}

func TestSplitByAccountIsDeterministic(t *testing.T) {
	rows, _ := simulate.Portfolio(simulate.Options{Accounts: 300, Weeks: 6, Seed: 3, Start: time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)})
	tab := snapshot.TableOf(rows)
	fit, held := Split(tab, 0.3, 7)
	if fit.Len()+held.Len() != tab.Len() || fit.Accounts()+held.Accounts() != tab.Accounts() {
		t.Fatalf("split %d+%d rows, %d+%d accounts of %d, %d", fit.Len(), held.Len(), fit.Accounts(), held.Accounts(), tab.Len(), tab.Accounts())
	}
	heldIDs := ids(held)
	for id := range ids(fit) {
		if heldIDs[id] {
			t.Errorf("account %s is in both parts", id)
		}
	}
	if n := held.Accounts(); n < 60 || n > 120 {
		t.Errorf("held back %d of 300 accounts, want about 90", n)
	}
	// Row order does not matter, and the same seed holds back the same accounts.
	shuffled := slices.Clone(rows)
	rand.New(rand.NewPCG(9, 9)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	_, again := Split(snapshot.TableOf(shuffled), 0.3, 7)
	if !mapsEqual(ids(again), heldIDs) {
		t.Error("the same seed held back other accounts once the rows were shuffled")
	}
	if _, other := Split(tab, 0.3, 8); mapsEqual(ids(other), heldIDs) {
		t.Error("another seed held back the same accounts")
	}
}

func ids(t *snapshot.Table) map[string]bool {
	m := map[string]bool{}
	for a := range t.Accounts() {
		m[t.AccountID(a)] = true
	}
	return m
}

func mapsEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func TestWilson(t *testing.T) {
	for _, c := range []struct {
		k, n      int
		low, high float64
	}{
		{0, 10, 0, 0.2775},
		{5, 10, 0.2366, 0.7634},
		{10, 10, 0.7225, 1},
		{81, 263, 0.2553, 0.3662},
		{1, 1, 0.2065, 1},
		{0, 0, 0, 1},
	} {
		lo, hi := Wilson(c.k, c.n)
		if math.Abs(lo-c.low) > 5e-5 || math.Abs(hi-c.high) > 5e-5 {
			t.Errorf("Wilson(%d, %d) = [%.4f, %.4f], want [%.4f, %.4f]", c.k, c.n, lo, hi, c.low, c.high)
		}
	}
}

func TestChooseThreshold(t *testing.T) {
	// Four accounts that stayed (highest scores 10, 20, 30, 40) and two
	// churners: one reaching 35 in time (30 days ahead), one reaching 25
	// in time and 50 only in its last weeks.
	b := &book{ids: make([]string, 6), churner: []bool{false, false, false, false, true, true}}
	add := func(a int, score int, label, late bool) {
		b.samples = append(b.samples, sample{account: int32(a), score: score, label: label, late: late})
	}
	for a, scores := range [][]int{{5, 10}, {20}, {30, 1}, {40}} {
		for _, v := range scores {
			add(a, v, false, false)
		}
	}
	add(4, 12, false, false) // before the horizon: not credited
	add(4, 35, true, false)
	add(5, 25, true, false)
	add(5, 50, true, true)
	score := func(i int) float64 { return float64(b.samples[i].score) }
	next := func(v float64) float64 { return v + 1 }
	for _, c := range []struct{ target, want float64 }{
		{0, 45.5},  // no false alarm allowed (above 40): only the late flag of the second churner, up to 50
		{0.25, 33}, // one allowed (40): 31 to 35 catch the first churner in time
		{0.49, 33},
		{0.5, 23}, // two allowed (30, 40): 21 to 25 catch both in time
		{1, 18},   // any rate: 11 to 25 catch both
	} {
		if got := b.chooseThreshold(score, c.target, next); got != c.want {
			t.Errorf("target %v: threshold %v, want %v", c.target, got, c.want)
		}
	}
}

func TestGBMLearnsAnInteraction(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	var x [][]float64
	var y []float64
	for range 4000 {
		a, b := float64(r.IntN(2)), float64(r.IntN(2))
		churn := (a == 1) != (b == 1) // exclusive or: no weighted sum of a and b tells it
		if r.Float64() < 0.1 {
			churn = !churn
		}
		x, y = append(x, []float64{a, b, r.Float64()}), append(y, pick(churn, 1, 0))
	}
	m := trainGBM(x, y, GBMOptions{Depth: 2, Trees: 50})
	p := func(a, b float64) float64 { return sigmoid(m.predict([]float64{a, b, 0.5})) }
	if !(p(1, 0) > 0.7 && p(0, 1) > 0.7 && p(0, 0) < 0.3 && p(1, 1) < 0.3) {
		t.Errorf("p(0,0)=%.2f p(1,0)=%.2f p(0,1)=%.2f p(1,1)=%.2f", p(0, 0), p(1, 0), p(0, 1), p(1, 1))
	}
}

func TestDecisionHitRates(t *testing.T) {
	packet := func(outcome review.OutcomeKind, decision review.DecisionKind, sigs ...string) review.Packet {
		p := review.Packet{AccountID: "A", Assessment: risk.Assessment{Tier: risk.Elevated}}
		for _, s := range sigs {
			p.Assessment.Signals = append(p.Assessment.Signals, risk.Signal{ID: s, Points: 5})
		}
		p.Assessment.Signals = append(p.Assessment.Signals, risk.Signal{ID: "listed_only"})
		if outcome != "" {
			p.Outcome = &review.Outcome{Kind: outcome}
		}
		if decision != "" {
			p.Decision = &review.Decision{Kind: decision, Reason: "known seasonal dip"}
		}
		return p
	}
	var ds []Decision
	for _, p := range []review.Packet{
		packet(review.Saved, review.Approve, "login_drop"),
		packet(review.Churned, review.Approve, "login_drop", "nps_low"),
		packet(review.StillAtRisk, review.Approve, "nps_low"),
		packet(review.FalsePositive, review.Approve, "login_drop"),
		packet("", review.Reject, "login_drop"),
		packet("", review.Approve, "login_drop"), // pending: not counted
	} {
		if d, ok := DecisionOf(p); ok {
			ds = append(ds, d)
		}
	}
	got := map[string]HitRate{}
	for _, h := range decisionHitRates(ds) {
		got[h.Kind+"/"+h.ID] = h
	}
	for key, want := range map[string][2]int{"signal/login_drop": {2, 4}, "signal/nps_low": {2, 2}, "tier/elevated": {3, 5}} {
		if h := got[key]; h.Hits != want[0] || h.N != want[1] {
			t.Errorf("%s: %d of %d, want %d of %d", key, h.Hits, h.N, want[0], want[1])
		}
	}
	if _, ok := got["signal/listed_only"]; ok {
		t.Error("a signal listed without points was counted")
	}
}

// smallBook is a simulated book small enough for a unit test.
func smallBook() (*snapshot.Table, map[string]time.Time) {
	rows, churn := simulate.Portfolio(simulate.Options{Accounts: 240, Weeks: 40, Seed: 11, ChurnRate: 0.2,
		Start: time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)})
	return snapshot.TableOf(rows), simulate.ChurnMap(churn)
}

func TestRunWritesAProposalConfigLoads(t *testing.T) {
	tab, churn := smallBook()
	cur := risk.DefaultModel()
	rep, err := Run(Input{Model: cur, Table: tab, Churn: churn}, Options{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	// The current model's held-back figures are backtest's own on the
	// held-back accounts.
	_, held := Split(tab, 0.3, 5)
	want := backtest.RunTable(cur, held, churn, backtest.Options{})
	if g := rep.Current; g.Accounts != want.Accounts || g.FlaggedChurners != want.FlaggedChurners || g.FalseAlarms != want.FalseAlarms ||
		g.MedianLeadDays != want.MedianLeadDays || g.Recall30d != want.Recall30d {
		t.Errorf("current held-back figures %+v, backtest says %+v", g.Metrics, want.Metrics)
	}
	if rep.HoldoutAccounts == 0 || rep.FitAccounts+rep.HoldoutAccounts > tab.Accounts() {
		t.Errorf("fit %d + held back %d of %d accounts", rep.FitAccounts, rep.HoldoutAccounts, tab.Accounts())
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "proposal.yaml")
	var buf bytes.Buffer
	if err := WriteProposal(&buf, rep, "history.csv, churn.csv"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{rep.ProposedVersion, "NOTHING IS APPLIED", "history.csv, churn.csv", "\nrisk:\n  thresholds:\n"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("proposal lacks %q:\n%s", want, buf.String())
		}
	}
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	config.AddFlags(fs)
	if err := fs.Parse([]string{"--config", path}); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(fs)
	if err != nil {
		t.Fatalf("config.Load(proposal): %v\n%s", err, buf.String())
	}
	if cfg.Risk != rep.Proposed || cfg.Risk.Hash() != rep.ProposedHash {
		t.Errorf("loaded risk config hashes %s, want the proposed %s\n%s", cfg.Risk.Hash(), rep.ProposedHash, buf.String())
	}
	if rep.ProposedVersion != risk.ModelVersion+"+cal."+rep.ProposedHash[:7] {
		t.Errorf("proposed version %q", rep.ProposedVersion)
	}
}

func TestScaleCapsFollowTheLargestMultiplier(t *testing.T) {
	m := risk.DefaultModel()
	ncol := len(signalIDs(m))
	mult := make([]float64, ncol)
	for i := range mult {
		mult[i] = 1
	}
	mult[column(t, "goal_off_track")] = 2
	mult[column(t, "login_drop")], mult[column(t, "usage_slide")] = 0.5, 0.4
	dims := map[int32]string{int32(column(t, "goal_off_track")): "outcome", int32(column(t, "login_drop")): "usage", int32(column(t, "usage_slide")): "usage"}
	caps := map[string]CapChange{}
	for _, c := range scaleCaps(&m, mult, dims) {
		caps[c.Dimension] = c
	}
	if c := caps["outcome"]; c.Cap != 20 || c.ProposedCap != 40 || m.Dimensions.Outcome.Cap != 40 {
		t.Errorf("outcome: %+v, model cap %d; want 20 -> 40", c, m.Dimensions.Outcome.Cap)
	}
	if c := caps["usage"]; c.ProposedCap != 18 || m.Dimensions.Usage.Cap != 18 {
		t.Errorf("usage: %+v; want 35 -> 18 (its largest multiplier 0.5)", c)
	}
	if _, ok := caps["support"]; ok || m.Dimensions.Support.Cap != risk.DefaultModel().Dimensions.Support.Cap {
		t.Errorf("support, with no signal seen, changed: %+v", caps["support"])
	}
}

func TestCriticalKeepsItsShareOfFlags(t *testing.T) {
	bookOf := func(maxes ...int) *book {
		b := &book{ids: make([]string, len(maxes))}
		for a, v := range maxes {
			b.samples = append(b.samples, sample{account: int32(a), score: v / 2}, sample{account: int32(a), score: v})
		}
		return b
	}
	cur := bookOf(10, 45, 50, 70, 80)        // elevated 40: four flagged, half of them critical (65)
	scored := bookOf(30, 60, 70, 90, 95, 99) // elevated 55: five flagged
	got := criticalAt(cur, risk.Thresholds{Critical: 65, Elevated: 40, Watch: 20}, scored, risk.Thresholds{Critical: 80, Elevated: 55, Watch: 27})
	if got != 90 { // round(0.5 * 5) = 3 of 5: 99, 95, 90
		t.Errorf("critical %d, want 90", got)
	}
}
