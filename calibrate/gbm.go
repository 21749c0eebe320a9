package calibrate

import "slices"

// GBMOptions sizes the gradient-boosted baseline.
type GBMOptions struct {
	Trees    int     // boosting rounds (default 100)
	Depth    int     // tree depth (default 3)
	Rate     float64 // learning rate (default 0.1)
	L2       float64 // leaf-value regularisation (default 1)
	MinHess  float64 // least hessian per leaf (default 5)
	MaxSplit int     // most split points per feature (default 32)
}

func (o GBMOptions) withDefaults() GBMOptions {
	if o.Trees <= 0 {
		o.Trees = 100
	}
	if o.Depth <= 0 {
		o.Depth = 3
	}
	if o.Rate <= 0 {
		o.Rate = 0.1
	}
	if o.L2 <= 0 {
		o.L2 = 1
	}
	if o.MinHess <= 0 {
		o.MinHess = 5
	}
	if o.MaxSplit <= 0 {
		o.MaxSplit = 32
	}
	return o
}

// gbm is a gradient-boosted ensemble of small regression trees on the
// logistic loss (second-order boosting): the opaque baseline the
// explainable model is read against.
type gbm struct {
	base  float64
	rate  float64
	trees [][]gbmNode
}

// gbmNode is a split (x[feat] <= thr goes to left, else right) or, with
// leaf set, a value.
type gbmNode struct {
	feat        int
	thr         float64
	left, right int
	leaf        bool
	value       float64
}

// predict returns the log-odds for one dense feature row.
func (g *gbm) predict(x []float64) float64 {
	z := g.base
	for _, t := range g.trees {
		n := 0
		for !t[n].leaf {
			if x[t[n].feat] <= t[n].thr {
				n = t[n].left
			} else {
				n = t[n].right
			}
		}
		z += g.rate * t[n].value
	}
	return z
}

// gbmTrainer holds the binned training data.
type gbmTrainer struct {
	o    GBMOptions
	x    [][]float64 // rows
	bins [][]uint8   // bins[i][f]: the bin of x[i][f]
	cuts [][]float64 // cuts[f][k]: the upper value of bin k
	g, h []float64
}

// trainGBM fits the ensemble to rows x with outcomes y.
func trainGBM(x [][]float64, y []float64, o GBMOptions) *gbm {
	o = o.withDefaults()
	tr := &gbmTrainer{o: o, x: x, g: make([]float64, len(x)), h: make([]float64, len(x))}
	tr.bin()
	m := &gbm{base: logit(mean(y)), rate: o.Rate}
	z := make([]float64, len(x))
	for i := range z {
		z[i] = m.base
	}
	all := make([]int, len(x))
	for i := range all {
		all[i] = i
	}
	for range o.Trees {
		for i := range x {
			p := sigmoid(z[i])
			tr.g[i], tr.h[i] = p-y[i], max(p*(1-p), 1e-6)
		}
		var t []gbmNode
		tr.grow(&t, slices.Clone(all), 0)
		m.trees = append(m.trees, t)
		for i := range x {
			z[i] += o.Rate * leafValue(t, x[i])
		}
	}
	return m
}

func leafValue(t []gbmNode, x []float64) float64 {
	n := 0
	for !t[n].leaf {
		if x[t[n].feat] <= t[n].thr {
			n = t[n].left
		} else {
			n = t[n].right
		}
	}
	return t[n].value
}

// bin cuts each feature at up to MaxSplit of its distinct values (by
// quantile when it has more).
func (tr *gbmTrainer) bin() {
	if len(tr.x) == 0 {
		return
	}
	nf := len(tr.x[0])
	tr.cuts = make([][]float64, nf)
	col := make([]float64, len(tr.x))
	for f := range nf {
		for i := range tr.x {
			col[i] = tr.x[i][f]
		}
		vals := slices.Compact(slices.Sorted(slices.Values(col)))
		if len(vals) > tr.o.MaxSplit {
			q := make([]float64, 0, tr.o.MaxSplit)
			for k := 1; k <= tr.o.MaxSplit; k++ {
				q = append(q, vals[k*(len(vals)-1)/tr.o.MaxSplit])
			}
			vals = slices.Compact(q)
		}
		tr.cuts[f] = vals
	}
	tr.bins = make([][]uint8, len(tr.x))
	for i, row := range tr.x {
		tr.bins[i] = make([]uint8, nf)
		for f, v := range row {
			k, _ := slices.BinarySearch(tr.cuts[f], v)
			tr.bins[i][f] = uint8(min(k, len(tr.cuts[f])-1))
		}
	}
}

// grow appends the subtree for rows idx to t and returns its index.
func (tr *gbmTrainer) grow(t *[]gbmNode, idx []int, depth int) int {
	var G, H float64
	for _, i := range idx {
		G += tr.g[i]
		H += tr.h[i]
	}
	me := len(*t)
	*t = append(*t, gbmNode{leaf: true, value: -G / (H + tr.o.L2)})
	if depth == tr.o.Depth {
		return me
	}
	feat, bin, gain := tr.bestSplit(idx, G, H)
	if gain <= 1e-9 {
		return me
	}
	thr := tr.cuts[feat][bin]
	left := idx[:0:0]
	var right []int
	for _, i := range idx {
		if tr.bins[i][feat] <= uint8(bin) {
			left = append(left, i)
		} else {
			right = append(right, i)
		}
	}
	l := tr.grow(t, left, depth+1)
	r := tr.grow(t, right, depth+1)
	(*t)[me] = gbmNode{feat: feat, thr: thr, left: l, right: r}
	return me
}

// bestSplit finds the split of idx with the largest loss reduction.
func (tr *gbmTrainer) bestSplit(idx []int, G, H float64) (feat, bin int, gain float64) {
	lam := tr.o.L2
	parent := G * G / (H + lam)
	for f := range tr.cuts {
		nb := len(tr.cuts[f])
		if nb < 2 {
			continue
		}
		gs, hs := make([]float64, nb), make([]float64, nb)
		for _, i := range idx {
			k := tr.bins[i][f]
			gs[k] += tr.g[i]
			hs[k] += tr.h[i]
		}
		var gl, hl float64
		for k := 0; k < nb-1; k++ {
			gl += gs[k]
			hl += hs[k]
			gr, hr := G-gl, H-hl
			if hl < tr.o.MinHess || hr < tr.o.MinHess {
				continue
			}
			if v := gl*gl/(hl+lam) + gr*gr/(hr+lam) - parent; v > gain {
				feat, bin, gain = f, k, v
			}
		}
	}
	return feat, bin, gain / 2
}
