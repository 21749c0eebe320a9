package calibrate

import (
	"math"
	"time"

	"github.com/churnwatch/churnwatch/backtest"
	"github.com/churnwatch/churnwatch/snapshot"
)

// dense returns sample i's points as a dense row of ncol features.
func (b *book) dense(i, ncol int) []float64 {
	x := make([]float64, ncol)
	s := b.samples[i]
	for k, c := range s.cols {
		x[c] = s.pts[k]
	}
	return x
}

// runGBM trains the boosted baseline on the fitting part's account-weeks
// (the same features, labels and weeks the explainable fit sees) and replays it
// over the held-back part. Its threshold is set at the target false-alarm
// rate on out-of-fold predictions of the fitting part (each fold of
// accounts predicted by trees grown on the others): in-sample, trees
// remember their training accounts and the threshold would promise a
// false-alarm rate they do not keep. It returns the held-back result and
// the threshold as a probability.
func runGBM(fit, held *book, ncol int, target float64, seed int64, heldT *snapshot.Table, churn map[string]time.Time, bo backtest.Options, o GBMOptions) (backtest.Result, float64) {
	x := make([][]float64, len(fit.samples))
	y := make([]float64, len(fit.samples))
	for i := range fit.samples {
		x[i] = fit.dense(i, ncol)
		if fit.samples[i].label {
			y[i] = 1
		}
	}
	folds := fit.folds(seed, cvFolds)
	oof := make([]float64, len(x))
	for k := range cvFolds {
		var tx [][]float64
		var ty []float64
		for i, s := range fit.samples {
			if folds[s.account] != k && !s.late {
				tx, ty = append(tx, x[i]), append(ty, y[i])
			}
		}
		m := trainGBM(tx, ty, o)
		for i, s := range fit.samples {
			if folds[s.account] == k {
				oof[i] = m.predict(x[i])
			}
		}
	}
	thr := fit.chooseThreshold(func(i int) float64 { return oof[i] }, target, func(v float64) float64 { return math.Nextafter(v, math.Inf(1)) })
	var tx [][]float64
	var ty []float64
	for i, s := range fit.samples {
		if !s.late {
			tx, ty = append(tx, x[i]), append(ty, y[i])
		}
	}
	model := trainGBM(tx, ty, o)
	flag := func(_ *snapshot.Table, asOf time.Time, ids []string) []bool {
		out := make([]bool, len(ids))
		for k, id := range ids {
			a, ok := held.index[id]
			if !ok {
				continue
			}
			if i, ok := held.at[weekKey{a, asOf.Unix()}]; ok {
				out[k] = model.predict(held.dense(i, ncol)) >= thr
			}
		}
		return out
	}
	return backtest.RunFlagger(flag, heldT, churn, bo), sigmoid(thr)
}
