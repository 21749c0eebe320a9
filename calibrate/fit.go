package calibrate

import (
	"fmt"
	"math"
	"slices"
)

// design is a sparse logistic-regression problem: row i has the values
// val[start[i]:start[i+1]] in columns col[...] (column 0, the intercept, is
// implicit), stands for w[i] account-weeks that had exactly these values,
// y[i] of which churned. Most account-weeks share a handful of patterns
// (no signal, one signal at its base points...), so a fit reads thousands
// of rows, not a book's every week.
type design struct {
	p     int // columns besides the intercept
	start []int
	col   []int32
	val   []float64
	w, y  []float64
	n     float64 // sum of w
	seen  map[string]int
}

func newDesign(p int) *design { return &design{p: p, start: []int{0}, seen: map[string]int{}} }

// add counts one account-week with values val in columns col.
func (d *design) add(col []int32, val []float64, churned bool) {
	key := fmt.Sprint(col, val)
	i, ok := d.seen[key]
	if !ok {
		i = len(d.w)
		d.seen[key] = i
		d.col = append(d.col, col...)
		d.val = append(d.val, val...)
		d.start = append(d.start, len(d.col))
		d.w, d.y = append(d.w, 0), append(d.y, 0)
	}
	d.w[i]++
	d.n++
	if churned {
		d.y[i]++
	}
}

func (d *design) rows() int { return len(d.w) }

// boxRidge is a logistic fit's constraints: theta[j] (j >= 1) within
// [lo[j], hi[j]] and pulled toward center[j] with weight lambda (the
// intercept is free).
type boxRidge struct {
	lo, hi, center []float64
	lambda         float64
}

// fitLogistic minimises the mean log loss of d plus lambda/2 * |theta -
// center|^2 over the box by accelerated projected gradient (FISTA): the
// problem is convex, so it converges to the one best fit whatever the
// start; it starts from theta0.
func fitLogistic(d *design, c boxRidge, theta0 []float64, maxIter int) []float64 {
	step := 1 / (0.25*d.maxEigen() + c.lambda)
	theta := slices.Clone(theta0)
	prev := slices.Clone(theta)
	z := slices.Clone(theta)
	grad := make([]float64, d.p+1)
	t := 1.0
	for range maxIter {
		d.gradient(z, grad)
		for j := 1; j <= d.p; j++ {
			grad[j] += c.lambda * (z[j] - c.center[j])
		}
		copy(prev, theta)
		moved := 0.0
		for j := range theta {
			v := z[j] - step*grad[j]
			if j > 0 {
				v = min(max(v, c.lo[j]), c.hi[j])
			}
			theta[j] = v
			moved = max(moved, math.Abs(v-prev[j]))
		}
		tNext := (1 + math.Sqrt(1+4*t*t)) / 2
		for j := range z {
			z[j] = theta[j] + (t-1)/tNext*(theta[j]-prev[j])
		}
		t = tNext
		if moved < 1e-9 {
			break
		}
	}
	return theta
}

// gradient writes the gradient of the mean log loss at theta into g.
func (d *design) gradient(theta, g []float64) {
	clear(g)
	for i := range d.rows() {
		z := theta[0]
		for k := d.start[i]; k < d.start[i+1]; k++ {
			z += theta[d.col[k]] * d.val[k]
		}
		r := d.w[i]*sigmoid(z) - d.y[i]
		g[0] += r
		for k := d.start[i]; k < d.start[i+1]; k++ {
			g[d.col[k]] += r * d.val[k]
		}
	}
	n := max(d.n, 1)
	for j := range g {
		g[j] /= n
	}
}

// maxEigen estimates the largest eigenvalue of X'X/n (X with its intercept
// column) by power iteration, for the gradient step: a trace bound would
// make the steps needlessly small.
func (d *design) maxEigen() float64 {
	v := make([]float64, d.p+1)
	for j := range v {
		v[j] = 1
	}
	w := make([]float64, d.p+1)
	lambda := 1.0
	for range 50 {
		clear(w)
		for i := range d.rows() {
			xv := v[0]
			for k := d.start[i]; k < d.start[i+1]; k++ {
				xv += v[d.col[k]] * d.val[k]
			}
			xv *= d.w[i]
			w[0] += xv
			for k := d.start[i]; k < d.start[i+1]; k++ {
				w[d.col[k]] += xv * d.val[k]
			}
		}
		norm := 0.0
		for j := range w {
			w[j] /= max(d.n, 1)
			norm += w[j] * w[j]
		}
		norm = math.Sqrt(norm)
		if norm == 0 {
			return 1
		}
		lambda = norm
		for j := range v {
			v[j] = w[j] / norm
		}
	}
	return lambda * 1.05 // power iteration approaches from below
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// Fit is the explainable model's refit: one multiplier per signal on its
// current points, on one common scale.
type Fit struct {
	Scale       float64   // log-odds per point of the current model
	Intercept   float64   // log-odds of churning with no points
	Multipliers []float64 // per signal column; 1 keeps the current points
}

// fitMultipliers fits the signals' point multipliers on samples: first
// one common scale (how many log-odds a point of the current model is
// worth), then one multiplier per signal on that scale, non-negative, at
// most maxMult, and pulled toward 1 (the current points) with the weight
// of ridge account-weeks, so a signal seen on few accounts keeps its points.
func fitMultipliers(samples []sample, ncol int, ridge, maxMult float64) Fit {
	// Stage 1: log-odds = a + s * (current points / 10).
	total := newDesign(1)
	positives := 0.0
	one := []int32{1}
	for _, s := range samples {
		sum := 0.0
		for _, v := range s.pts {
			sum += v
		}
		total.add(one, []float64{sum / 10}, s.label)
		if s.label {
			positives++
		}
	}
	th := fitLogistic(total, boxRidge{lo: []float64{0, 0}, hi: []float64{0, math.Inf(1)}, center: []float64{0, 0}},
		[]float64{logit(positives / max(total.n, 1)), 0.1}, 20000)
	scale := th[1] / 10

	// Stage 2: log-odds = a + sum_j m_j * s * points_j.
	d := newDesign(ncol)
	var cols []int32
	var vals []float64
	for _, s := range samples {
		cols, vals = cols[:0], vals[:0]
		for k, c := range s.cols {
			cols = append(cols, c+1)
			vals = append(vals, scale*s.pts[k])
		}
		d.add(cols, vals, s.label)
	}
	c := boxRidge{lo: make([]float64, ncol+1), hi: make([]float64, ncol+1), center: make([]float64, ncol+1),
		lambda: ridge / max(d.n, 1)}
	theta0 := make([]float64, ncol+1)
	theta0[0] = th[0]
	for j := 1; j <= ncol; j++ {
		c.hi[j], c.center[j], theta0[j] = maxMult, 1, 1
	}
	th = fitLogistic(d, c, theta0, 20000)
	return Fit{Scale: scale, Intercept: th[0], Multipliers: th[1:]}
}

// logLoss is the mean log loss of f on samples.
func (f Fit) logLoss(samples []sample) float64 {
	sum := 0.0
	for _, s := range samples {
		z := f.Intercept
		for k, c := range s.cols {
			z += f.Multipliers[c] * f.Scale * s.pts[k]
		}
		p := min(max(sigmoid(z), 1e-12), 1-1e-12)
		if s.label {
			sum -= math.Log(p)
		} else {
			sum -= math.Log(1 - p)
		}
	}
	return sum / float64(max(len(samples), 1))
}

// ridgeGrid is what chooseRidge tries, in account-weeks.
var ridgeGrid = []float64{1, 3, 10, 30, 100, 300, 1000}

// chooseRidge picks the ridge from ridgeGrid with the least log loss
// across folds of the book's accounts: each fold is predicted by a fit on
// the others, so the pull toward the current points is as strong as the
// data needs and no stronger.
func chooseRidge(b *book, ncol int, maxMult float64, seed int64, folds int) float64 {
	best, bestLoss := ridgeGrid[len(ridgeGrid)-1], math.Inf(1)
	parts := b.folds(seed, folds)
	for _, r := range ridgeGrid {
		loss := 0.0
		for k := range folds {
			train, test := parts.split(b, k)
			loss += fitMultipliers(train, ncol, r, maxMult).logLoss(test) * float64(len(test))
		}
		if loss < bestLoss {
			best, bestLoss = r, loss
		}
	}
	return best
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// logit is the log-odds of p, kept finite.
func logit(p float64) float64 {
	p = min(max(p, 1e-6), 1-1e-6)
	return math.Log(p / (1 - p))
}

func sortDesc(xs []float64) { slices.SortFunc(xs, func(a, b float64) int { return cmpFloat(b, a) }) }

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
