// Package calibrate fits the explainable risk model's own weights and
// thresholds to a book's churn history, and says on held-back accounts
// what the refit would have done beside the current model and an opaque
// gradient-boosted baseline. It proposes; it applies nothing: the output
// is a risk: config change for a person to review (see
// docs/calibration.md).
//
// It is pure: the decision record's outcomes come in as plain Decisions.
package calibrate

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/churnwatch/churnwatch/backtest"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/snapshot"
)

// Options tunes a calibration. Zero fields take the defaults noted.
type Options struct {
	Holdout     float64 // share of accounts held back for the report (default 0.3)
	Seed        int64   // picks the held-back accounts
	HorizonDays int     // a week is labelled "churns" when churn is at most this many days ahead (default 180, backtest's horizon)
	WarmupWeeks int     // as backtest (default 4)
	// LeadDays leaves the weeks closer than this to churn out of the fit
	// (default 30, the lead recall_30d asks for): a warning then comes too
	// late to act on, and signals that fire only at the end would
	// otherwise earn points for alarms that change nothing.
	LeadDays int
	// TargetFPR is the account false-alarm rate the elevated threshold is
	// set to on the fitting part; 0 keeps the current model's there, so
	// the comparison is at the same review load.
	TargetFPR float64
	// Ridge pulls each signal's multiplier toward 1 (its current points)
	// with the weight of this many account-weeks: a signal seen on few
	// accounts keeps its points. 0 chooses it by 3-fold cross-validation
	// over the fitting part's accounts.
	Ridge float64
	// MaxMultiplier bounds how far a signal's points may grow (default 3).
	MaxMultiplier float64
	GBM           GBMOptions
}

func (o Options) withDefaults() Options {
	if o.Holdout <= 0 {
		o.Holdout = 0.3
	}
	if o.HorizonDays <= 0 {
		o.HorizonDays = 180
	}
	if o.WarmupWeeks <= 0 {
		o.WarmupWeeks = 4
	}
	if o.LeadDays <= 0 {
		o.LeadDays = 30
	}
	if o.MaxMultiplier <= 0 {
		o.MaxMultiplier = 3
	}
	return o
}

// Input is what a calibration reads.
type Input struct {
	Model     risk.Model           // the current model
	Table     *snapshot.Table      // the snapshot history
	Churn     map[string]time.Time // account id → churn date
	Decisions []Decision           // resolved reviews of the decision record; may be empty
}

// Change is one signal's proposed points.
type Change struct {
	Signal         string  `json:"signal"`
	Multiplier     float64 `json:"multiplier"`
	Points         int     `json:"points"`
	SeverePoints   int     `json:"severe_points"`
	ProposedPoints int     `json:"proposed_points"`
	ProposedSevere int     `json:"proposed_severe_points"`
	AccountsFired  int     `json:"accounts_fired"` // in the fitting part
	YesNo          bool    `json:"yes_no,omitempty"`
	col            int     // its feature column
}

// CapChange is one dimension's proposed cap.
type CapChange struct {
	Dimension   string `json:"dimension"`
	Cap         int    `json:"cap"`
	ProposedCap int    `json:"proposed_cap"`
}

// Figures are how one flagging rule did on a set of accounts.
type Figures struct {
	Rule string `json:"rule"`
	backtest.Metrics
}

// Report is a calibration's result.
type Report struct {
	ModelVersion       string          `json:"model_version"`          // the code's, unchanged
	ProposedVersion    string          `json:"proposed_model_version"` // ModelVersion+cal.<hash>
	ConfigHash         string          `json:"config_hash"`
	ProposedHash       string          `json:"proposed_config_hash"`
	Seed               int64           `json:"seed"`
	Holdout            float64         `json:"holdout"`
	HorizonDays        int             `json:"horizon_days"`
	Accounts           int             `json:"accounts"`
	FitAccounts        int             `json:"fit_accounts"`
	FitChurners        int             `json:"fit_churners"`
	HoldoutAccounts    int             `json:"holdout_accounts"`
	HoldoutChurners    int             `json:"holdout_churners"`
	FitSamples         int             `json:"fit_account_weeks"` // the weeks the fit learned from
	TargetFPR          float64         `json:"target_false_positive_rate"`
	Scale              float64         `json:"log_odds_per_point"`
	Ridge              float64         `json:"ridge"` // in account-weeks, given or cross-validated
	Changes            []Change        `json:"changes"`
	Caps               []CapChange     `json:"caps"`
	Thresholds         risk.Thresholds `json:"thresholds"`
	ProposedThresholds risk.Thresholds `json:"proposed_thresholds"`
	GBMThreshold       float64         `json:"gbm_threshold"`
	// Held-back figures, same accounts, same definitions (package backtest).
	Current    Figures `json:"current"`
	Calibrated Figures `json:"calibrated"`
	GBM        Figures `json:"gbm"`
	Naive      Figures `json:"naive"`
	// The same on the fitting part: what the fit saw, for reading the
	// held-back figures against (a gap between them is overfitting).
	FitCurrent    Figures   `json:"fit_current"`
	FitCalibrated Figures   `json:"fit_calibrated"`
	HitRates      []HitRate `json:"hit_rates"`
	Decisions     int       `json:"decisions"` // resolved reviews read

	Proposed risk.Model `json:"-"` // the current model with the proposed points and thresholds
}

// calibration is one run's inputs, split and settled.
type calibration struct {
	in           Input
	opts         Options
	bo           backtest.Options
	ids          []string       // signal columns
	cols         map[string]int // by signal id
	fitT, holdT  *snapshot.Table
	fitBook      *book // the current model over the fitting part
	fitCurrentBT backtest.Result
}

// Run calibrates in.Model on in.Table and in.Churn.
func Run(in Input, opts Options) (Report, error) {
	opts = opts.withDefaults()
	if opts.Holdout >= 1 {
		return Report{}, fmt.Errorf("holdout %v: must be below 1", opts.Holdout)
	}
	c := &calibration{in: in, opts: opts, bo: backtest.Options{HorizonDays: opts.HorizonDays, WarmupWeeks: opts.WarmupWeeks},
		ids: signalIDs(in.Model), cols: map[string]int{}}
	for i, id := range c.ids {
		c.cols[id] = i
	}
	c.fitT, c.holdT = Split(in.Table, opts.Holdout, opts.Seed)
	if c.fitT.Accounts() == 0 || c.holdT.Accounts() == 0 {
		return Report{}, fmt.Errorf("%d accounts cannot be split into a fitting and a held-back part", in.Table.Accounts())
	}
	c.fitCurrentBT, c.fitBook = record(in.Model, c.cols, c.fitT, in.Churn, c.bo, opts.LeadDays)
	fr := c.fitCurrentBT
	if fr.Churners == 0 || fr.NonChurners == 0 {
		return Report{}, errors.New("the fitting part needs both churners and accounts that stayed: give a longer history or a larger book")
	}
	rep := Report{ModelVersion: risk.ModelVersion, ConfigHash: in.Model.Hash(), Seed: opts.Seed, Holdout: opts.Holdout,
		HorizonDays: opts.HorizonDays, Accounts: in.Table.Accounts(), FitAccounts: fr.Accounts, FitChurners: fr.Churners,
		TargetFPR: opts.TargetFPR, Thresholds: in.Model.Thresholds, Decisions: len(in.Decisions)}
	if rep.TargetFPR <= 0 {
		rep.TargetFPR = fr.FalsePositiveRate
	}
	if err := c.propose(&rep); err != nil {
		return Report{}, err
	}
	c.evaluate(&rep)
	return rep, nil
}

// propose fits the points on the fitting part, then the thresholds.
func (c *calibration) propose(rep *Report) error {
	rep.Ridge = c.opts.Ridge
	if rep.Ridge <= 0 {
		rep.Ridge = chooseRidge(c.fitBook, len(c.ids), c.opts.MaxMultiplier, c.opts.Seed, cvFolds)
	}
	train := c.fitBook.trainable()
	rep.FitSamples = len(train)
	fit := fitMultipliers(train, len(c.ids), rep.Ridge, c.opts.MaxMultiplier)
	rep.Scale = round3(fit.Scale)
	prop, changes := applyMultipliers(c.in.Model, fit.Multipliers)
	rep.Changes = changes
	countFired(rep.Changes, c.fitBook)
	rep.Caps = scaleCaps(&prop, fit.Multipliers, c.fitBook.dims)
	// Thresholds change no score: the new points' scores pick them.
	_, scored := record(prop, c.cols, c.fitT, c.in.Churn, c.bo, c.opts.LeadDays)
	elevated := scored.chooseThreshold(func(i int) float64 { return float64(scored.samples[i].score) }, rep.TargetFPR,
		func(v float64) float64 { return math.Floor(v) + 1 })
	prop.Thresholds = scaleThresholds(c.in.Model.Thresholds, int(math.Floor(elevated)))
	prop.Thresholds.Critical = criticalAt(c.fitBook, c.in.Model.Thresholds, scored, prop.Thresholds)
	if err := prop.Validate(); err != nil {
		return fmt.Errorf("the proposed model does not validate: %w", err)
	}
	rep.Proposed, rep.ProposedThresholds, rep.ProposedHash = prop, prop.Thresholds, prop.Hash()
	rep.ProposedVersion = ProposedVersion(prop)
	return nil
}

// evaluate replays the current model, the proposal and the boosted
// baseline over the held-back accounts, and counts the hit rates.
func (c *calibration) evaluate(rep *Report) {
	cur, prop := c.in.Model, rep.Proposed
	holdCur, holdBook := record(cur, c.cols, c.holdT, c.in.Churn, c.bo, c.opts.LeadDays)
	holdCal := backtest.RunTable(prop, c.holdT, c.in.Churn, c.bo)
	rep.HoldoutAccounts, rep.HoldoutChurners = holdCur.Accounts, holdCur.Churners
	rep.Current = Figures{"current model " + rep.ConfigHash, holdCur.Metrics}
	rep.Calibrated = Figures{"calibrated " + rep.ProposedHash, holdCal.Metrics}
	rep.Naive = Figures{"naive: " + holdCal.BaselineRule, holdCal.Baseline}
	rep.FitCurrent = Figures{rep.Current.Rule, c.fitCurrentBT.Metrics}
	rep.FitCalibrated = Figures{rep.Calibrated.Rule, backtest.RunTable(prop, c.fitT, c.in.Churn, c.bo).Metrics}

	gbmRes, thr := runGBM(c.fitBook, holdBook, len(c.ids), rep.TargetFPR, c.opts.Seed, c.holdT, c.in.Churn, c.bo, c.opts.GBM)
	rep.GBM, rep.GBMThreshold = Figures{"gradient-boosted trees", gbmRes.Metrics}, round3(thr)
	rep.HitRates = append(historyHitRates(c.ids, c.fitBook, holdBook), decisionHitRates(c.in.Decisions)...)
}

// cvFolds is how many folds of accounts cross-validation uses.
const cvFolds = 3

// ProposedVersion names a calibrated configuration: the code's model
// version and the proposed config's hash.
func ProposedVersion(m risk.Model) string { return risk.ModelVersion + "+cal." + m.Hash()[:7] }

// Split divides t by account into a fitting and a held-back part: an
// account is held back when a hash of the seed and its id falls below
// holdout, so the split depends on neither row order nor the other
// accounts, and the same seed always holds back the same accounts.
func Split(t *snapshot.Table, holdout float64, seed int64) (fit, held *snapshot.Table) {
	fit, held = snapshot.NewTable(), snapshot.NewTable()
	isHeld := make([]bool, t.Accounts())
	for a := range isHeld {
		isHeld[a] = heldBack(t.AccountID(a), holdout, seed)
	}
	var s snapshot.Snapshot
	for i := range t.Len() {
		t.Row(i, &s)
		if isHeld[t.Account(i)] {
			held.Add(&s)
		} else {
			fit.Add(&s)
		}
	}
	return fit, held
}

func heldBack(id string, holdout float64, seed int64) bool {
	return unit(id, "holdout", seed) < holdout
}

// unit maps an account id to [0, 1), evenly and reproducibly for a seed
// and a purpose (salt). SHA-256, not FNV: ids that differ in their last
// digit (A-1001, A-1002) must land far apart.
func unit(id, salt string, seed int64) float64 {
	sum := sha256.Sum256([]byte(strconv.FormatInt(seed, 10) + "\x00" + salt + "\x00" + id))
	return float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53)
}

// applyMultipliers returns m with each signal's points (and severe
// points) scaled by its multiplier: non-negative, severe points still at
// least the points, at most 100.
func applyMultipliers(m risk.Model, mult []float64) (risk.Model, []Change) {
	var changes []Change
	for i, r := range signalRules(&m) {
		old := *r.rule
		if old.Points <= 0 && old.SeverePoints <= 0 {
			continue // switched off in the config: not the fit's to switch on
		}
		k := mult[i]
		r.rule.Points = min(100, int(math.Round(k*float64(old.Points))))
		if !yesNo(old) {
			r.rule.SeverePoints = max(r.rule.Points, min(100, int(math.Round(k*float64(old.SeverePoints)))))
		}
		changes = append(changes, Change{Signal: r.id, Multiplier: round3(k), Points: old.Points, SeverePoints: old.SeverePoints,
			ProposedPoints: r.rule.Points, ProposedSevere: r.rule.SeverePoints, YesNo: yesNo(old), col: i})
	}
	return m, changes
}

// countFired counts, per change, the accounts of b its signal scored on.
func countFired(changes []Change, b *book) {
	seen := map[[2]int32]bool{}
	n := map[int]int{}
	for _, s := range b.samples {
		for _, c := range s.cols {
			if k := [2]int32{c, s.account}; !seen[k] {
				seen[k] = true
				n[int(c)]++
			}
		}
	}
	for i := range changes {
		changes[i].AccountsFired = n[changes[i].col]
	}
}

// scaleCaps scales each dimension's cap by the largest multiplier of its
// signals: the fit added points up uncapped, so a sum the current caps let
// through must still get through, and one they clipped is still clipped.
// Without it a signal's raised points would vanish under its
// dimension's old cap.
func scaleCaps(m *risk.Model, mult []float64, dims map[int32]string) []CapChange {
	largest := map[string]float64{}
	for col, dim := range dims {
		if k, seen := largest[dim]; !seen || mult[col] > k {
			largest[dim] = mult[col]
		}
	}
	var out []CapChange
	for _, d := range dimensions(m) {
		k, seen := largest[d.name]
		if !seen {
			continue
		}
		old := d.dim.Cap
		d.dim.Cap = min(100, int(math.Ceil(float64(old)*k-1e-9)))
		out = append(out, CapChange{Dimension: d.name, Cap: old, ProposedCap: d.dim.Cap})
	}
	return out
}

// criticalAt sets critical so that, of the accounts flagged on the
// fitting part, as many reach critical under the proposal (scored) as
// under the current model (cur): the 48-hour tier keeps its share of the
// reviews rather than a proportion of the scale.
func criticalAt(cur *book, curT risk.Thresholds, scored *book, t risk.Thresholds) int {
	share := func(maxes []float64, critical float64) float64 {
		n := 0
		for _, v := range maxes {
			n += b2i(v >= critical)
		}
		return float64(n) / float64(max(len(maxes), 1))
	}
	q := share(cur.flaggedMaxes(float64(curT.Elevated)), float64(curT.Critical))
	maxes := scored.flaggedMaxes(float64(t.Elevated))
	k := int(math.Round(q * float64(len(maxes))))
	if len(maxes) == 0 || k == 0 {
		return t.Critical // nothing to go by: keep the proportion
	}
	sortDesc(maxes)
	return min(max(int(maxes[k-1]), t.Elevated+1), 100)
}

// flaggedMaxes is the highest score of each account that reached elevated.
func (b *book) flaggedMaxes(elevated float64) []float64 {
	top := make([]float64, len(b.ids))
	for _, s := range b.samples {
		top[s.account] = max(top[s.account], float64(s.score))
	}
	var out []float64
	for _, v := range top {
		if v >= elevated {
			out = append(out, v)
		}
	}
	return out
}

// scaleThresholds sets elevated and keeps critical and watch in the
// current proportion to it.
func scaleThresholds(cur risk.Thresholds, elevated int) risk.Thresholds {
	elevated = min(max(elevated, 2), 99)
	ratio := func(v int) int { return int(math.Round(float64(v) * float64(elevated) / float64(cur.Elevated))) }
	return risk.Thresholds{
		Critical: min(max(ratio(cur.Critical), elevated+1), 100),
		Elevated: elevated,
		Watch:    min(max(ratio(cur.Watch), 1), elevated-1),
	}
}
