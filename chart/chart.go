// Package chart draws small server-rendered SVG charts for the dashboard
// pages. The pages run under a Content-Security-Policy without inline
// styles or scripts, so the output holds only SVG elements with presentation
// attributes (fill, stroke, ...) and class attributes: no style attribute,
// no script, no external font. A stylesheet may restyle the classes.
//
// A NaN (or infinite) value is unknown and is drawn as a gap, never as zero.
// Every name and label is escaped, so the output is safe to embed as is.
package chart

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Default sizes, used when a width or height is not positive.
const (
	sparkWidth, sparkHeight = 120, 24
	chartWidth, chartHeight = 640, 240
)

// palette colours the series in order; a stylesheet can override them
// through the series' classes.
var palette = []string{"#1f77b4", "#d62728", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#7f7f7f", "#17becf"}

// Series is one named line, or one layer of stacked bars.
type Series struct {
	Name   string
	Values []float64 // NaN = gap
	Class  string    // extra class names for the series' elements
}

// Sparkline draws values as a small polyline; NaN values are gaps (unknown is not zero).
func Sparkline(values []float64, width, height int) template.HTML {
	width, height = size(width, height, sparkWidth, sparkHeight)
	var b strings.Builder
	open(&b, "sparkline", width, height)
	lo, hi, ok := bounds(values, len(values))
	if ok {
		const pad = 2
		x := xScale(len(values), pad, float64(width-pad))
		y := yScale(lo, hi, float64(height-pad), pad)
		b.WriteString(`<g class="series" fill="none" stroke="currentColor" stroke-width="1.5">`)
		for _, run := range runs(values, len(values)) {
			polyline(&b, run, x, y, values)
		}
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// Lines draws several series over the same x labels, with a y axis (min/max labels), x labels (first, last, and a few between), a legend, and <title> tooltips on each point with "label: value".
func Lines(series []Series, labels []string, width, height int) template.HTML {
	return frame("chart lines", series, labels, width, height, seriesBounds, func(b *strings.Builder, p plot, n int, y func(float64) float64) {
		x := xScale(n, p.left+6, p.right-6)
		xLabels(b, labels, n, x, p.bottom+14)
		for i, s := range series {
			fmt.Fprintf(b, `<g class="%s" fill="none" stroke="%s" stroke-width="2">`, seriesClass(i, s), colour(i))
			for _, run := range runs(s.Values, n) {
				polyline(b, run, x, y, s.Values)
			}
			b.WriteString(`</g>`)
			fmt.Fprintf(b, `<g class="points %s" fill="%s">`, seriesClass(i, s), colour(i))
			for j := 0; j < n && j < len(s.Values); j++ {
				if v := s.Values[j]; finite(v) {
					fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="3"><title>%s</title></circle>`,
						coord(x(j)), coord(y(v)), tooltip(s.Name, label(labels, j), v))
				}
			}
			b.WriteString(`</g>`)
		}
	})
}

// Bars draws stacked bars per label (e.g. ARR at risk by tier per week), same rules.
// Positive values stack up from zero and negative ones down; a NaN value
// adds no segment, and a label whose values are all NaN has no bar.
func Bars(series []Series, labels []string, width, height int) template.HTML {
	return frame("chart bars", series, labels, width, height, stackBounds, func(b *strings.Builder, p plot, n int, y func(float64) float64) {
		slot := (p.right - p.left) / float64(n)
		barWidth := math.Max(1, slot*0.7)
		xLabels(b, labels, n, func(i int) float64 { return p.left + (float64(i)+0.5)*slot }, p.bottom+14)
		up, down := make([]float64, n), make([]float64, n)
		for i, s := range series {
			fmt.Fprintf(b, `<g class="%s" fill="%s">`, seriesClass(i, s), colour(i))
			for j := 0; j < n && j < len(s.Values); j++ {
				v := s.Values[j]
				if !finite(v) || v == 0 {
					continue
				}
				base := &up[j]
				if v < 0 {
					base = &down[j]
				}
				y0, y1 := y(*base), y(*base+v)
				*base += v
				fmt.Fprintf(b, `<rect x="%s" y="%s" width="%s" height="%s"><title>%s</title></rect>`,
					coord(p.left+float64(j)*slot+(slot-barWidth)/2), coord(math.Min(y0, y1)), coord(barWidth),
					coord(math.Abs(y1-y0)), tooltip(s.Name, label(labels, j), v))
			}
			b.WriteString(`</g>`)
		}
	})
}

// frame draws what Lines and Bars share: the svg, its legend, "no data"
// when bounds finds nothing to draw, else the y axis over the bounds and
// then draw's marks.
func frame(class string, series []Series, labels []string, width, height int,
	bounds func([]Series, int) (lo, hi float64, ok bool), draw func(b *strings.Builder, p plot, n int, y func(float64) float64)) template.HTML {
	width, height = size(width, height, chartWidth, chartHeight)
	n := points(series, labels)
	var b strings.Builder
	open(&b, class, width, height)
	p := layout(&b, series, width, height)
	if lo, hi, ok := bounds(series, n); !ok {
		noData(&b, p)
	} else {
		y := yScale(lo, hi, p.bottom, p.top)
		axes(&b, p, lo, hi, y)
		draw(&b, p, n, y)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func size(w, h, defW, defH int) (int, int) {
	if w <= 0 {
		w = defW
	}
	if h <= 0 {
		h = defH
	}
	return w, h
}

func open(b *strings.Builder, class string, width, height int) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" class="%s" width="%d" height="%d" viewBox="0 0 %d %d" role="img" font-family="sans-serif" font-size="11">`,
		class, width, height, width, height)
}

// points is how many x positions a chart has: one per label, or when there
// are no labels, the longest series.
func points(series []Series, labels []string) int {
	if len(labels) > 0 {
		return len(labels)
	}
	n := 0
	for _, s := range series {
		n = max(n, len(s.Values))
	}
	return n
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// bounds is the range of the finite values among the first n; ok is false
// when there is none.
func bounds(values []float64, n int) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range values[:min(n, len(values))] {
		if finite(v) {
			lo, hi, ok = math.Min(lo, v), math.Max(hi, v), true
		}
	}
	return lo, hi, ok
}

func seriesBounds(series []Series, n int) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range series {
		if l, h, found := bounds(s.Values, n); found {
			lo, hi, ok = math.Min(lo, l), math.Max(hi, h), true
		}
	}
	return lo, hi, ok
}

// stackBounds is the range of the stacked totals, always including zero
// (bars grow from it).
func stackBounds(series []Series, n int) (lo, hi float64, ok bool) {
	for j := 0; j < n; j++ {
		var up, down float64
		for _, s := range series {
			if j < len(s.Values) && finite(s.Values[j]) {
				ok = true
				if v := s.Values[j]; v > 0 {
					up += v
				} else {
					down += v
				}
			}
		}
		lo, hi = math.Min(lo, down), math.Max(hi, up)
	}
	return lo, hi, ok
}

// xScale spreads n points from left to right; a single point is centred.
func xScale(n int, left, right float64) func(int) float64 {
	if n <= 1 {
		return func(int) float64 { return (left + right) / 2 }
	}
	step := (right - left) / float64(n-1)
	return func(i int) float64 { return left + float64(i)*step }
}

// yScale maps lo..hi to bottom..top (SVG y grows downwards); when every
// value is the same they sit in the middle.
func yScale(lo, hi, bottom, top float64) func(float64) float64 {
	if hi == lo {
		return func(float64) float64 { return (bottom + top) / 2 }
	}
	return func(v float64) float64 { return bottom - (v-lo)/(hi-lo)*(bottom-top) }
}

// runs splits the first n values into the index ranges of consecutive
// finite values: the pieces of a line between its gaps.
func runs(values []float64, n int) [][2]int {
	var out [][2]int
	start := -1
	for i := 0; i <= min(n, len(values)); i++ {
		known := i < min(n, len(values)) && finite(values[i])
		switch {
		case known && start < 0:
			start = i
		case !known && start >= 0:
			out = append(out, [2]int{start, i})
			start = -1
		}
	}
	return out
}

// polyline draws values[run[0]:run[1]]; a lone point between gaps is a dot,
// since a one-point polyline is invisible.
func polyline(b *strings.Builder, run [2]int, x func(int) float64, y func(float64) float64, values []float64) {
	if run[1]-run[0] == 1 {
		fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="1.5" fill="currentColor" stroke="none"/>`, coord(x(run[0])), coord(y(values[run[0]])))
		return
	}
	b.WriteString(`<polyline points="`)
	for i := run[0]; i < run[1]; i++ {
		if i > run[0] {
			b.WriteByte(' ')
		}
		b.WriteString(coord(x(i)) + "," + coord(y(values[i])))
	}
	b.WriteString(`"/>`)
}

// plot is the area the data is drawn in, inside the legend and the axes' labels.
type plot struct{ left, right, top, bottom float64 }

// layout draws the legend along the top, wrapping as needed, and returns
// the plot area below it.
func layout(b *strings.Builder, series []Series, width, height int) plot {
	const rowHeight, left = 16, 56
	x, row := float64(left), 0
	if len(series) > 0 {
		b.WriteString(`<g class="legend">`)
	}
	for i, s := range series {
		name := clean(s.Name)
		w := 22 + 6.5*float64(utf8.RuneCountInString(name))
		if x+w > float64(width) && x > left {
			x, row = left, row+1
		}
		ty := float64(row*rowHeight + 12)
		fmt.Fprintf(b, `<rect x="%s" y="%s" width="10" height="10" fill="%s" class="%s"/><text x="%s" y="%s">%s</text>`,
			coord(x), coord(ty-9), colour(i), seriesClass(i, s), coord(x+14), coord(ty), template.HTMLEscapeString(name))
		x += w
	}
	top := 8.0
	if len(series) > 0 {
		b.WriteString(`</g>`)
		top = float64((row+1)*rowHeight) + 8
	}
	return plot{left: left, right: float64(width) - 12, top: top, bottom: math.Max(top+10, float64(height)-22)}
}

func noData(b *strings.Builder, p plot) {
	fmt.Fprintf(b, `<text class="no-data" x="%s" y="%s" text-anchor="middle" fill="#767676">No data</text>`,
		coord((p.left+p.right)/2), coord((p.top+p.bottom)/2))
}

// axes draws the y axis with its min and max labels, and the x axis.
func axes(b *strings.Builder, p plot, lo, hi float64, y func(float64) float64) {
	fmt.Fprintf(b, `<g class="axis" stroke="#999" stroke-width="1"><line x1="%s" y1="%s" x2="%s" y2="%s"/><line x1="%s" y1="%s" x2="%s" y2="%s"/></g>`,
		coord(p.left), coord(p.top), coord(p.left), coord(p.bottom), coord(p.left), coord(p.bottom), coord(p.right), coord(p.bottom))
	b.WriteString(`<g class="y-labels" text-anchor="end" fill="#555">`)
	fmt.Fprintf(b, `<text x="%s" y="%s">%s</text>`, coord(p.left-4), coord(y(hi)+4), compact(hi))
	if lo != hi {
		fmt.Fprintf(b, `<text x="%s" y="%s">%s</text>`, coord(p.left-4), coord(y(lo)+4), compact(lo))
	}
	b.WriteString(`</g>`)
}

// xLabels writes the first and last labels and a few evenly spaced between.
func xLabels(b *strings.Builder, labels []string, n int, x func(int) float64, y float64) {
	if len(labels) == 0 {
		return
	}
	b.WriteString(`<g class="x-labels" text-anchor="middle" fill="#555">`)
	for _, i := range ticks(n, 6) {
		fmt.Fprintf(b, `<text x="%s" y="%s">%s</text>`, coord(x(i)), coord(y), template.HTMLEscapeString(clean(labels[i])))
	}
	b.WriteString(`</g>`)
}

// ticks picks at most max indices of n: the first, the last, and evenly
// spaced ones between that do not crowd the last.
func ticks(n, most int) []int {
	if n <= most {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	step := (n - 1 + most - 2) / (most - 1) // ceil((n-1)/(most-1))
	var out []int
	for i := 0; i < n-1; i += step {
		if i > 0 && n-1-i < step/2+1 {
			break // too close to the last label
		}
		out = append(out, i)
	}
	return append(out, n-1)
}

func label(labels []string, i int) string {
	if i < len(labels) {
		return labels[i]
	}
	return strconv.Itoa(i + 1)
}

// tooltip is "name, label: value", escaped.
func tooltip(name, label string, v float64) string {
	t := clean(label) + ": " + exact(v)
	if name = clean(name); name != "" {
		t = name + ", " + t
	}
	return template.HTMLEscapeString(t)
}

// seriesClass is the classes of a series' elements. The caller's classes
// keep only the characters of class names: they are names, not markup.
func seriesClass(i int, s Series) string {
	extra := strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == ' ' || r < utf8.RuneSelf && (r >= '0' && r <= '9' || r|0x20 >= 'a' && r|0x20 <= 'z') {
			return r
		}
		return -1
	}, s.Class)), " ")
	return strings.TrimSpace("series series-" + strconv.Itoa(i) + " " + extra)
}

func colour(i int) string { return palette[i%len(palette)] }

func coord(f float64) string { return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) }

// exact formats a tooltip value: up to four decimals.
func exact(v float64) string { return strconv.FormatFloat(math.Round(v*10000)/10000, 'f', -1, 64) }

// compact formats an axis label: 190k, 1.2M, 0.67.
func compact(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return strconv.FormatFloat(math.Round(v/1e8)/10, 'f', -1, 64) + "B"
	case a >= 1e6:
		return strconv.FormatFloat(math.Round(v/1e5)/10, 'f', -1, 64) + "M"
	case a >= 1e4:
		return strconv.FormatFloat(math.Round(v/1e3), 'f', -1, 64) + "k"
	case a >= 10:
		return strconv.FormatFloat(math.Round(v), 'f', -1, 64)
	}
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

// clean drops what XML 1.0 cannot carry at all (control characters other
// than tab and newlines, invalid UTF-8, U+FFFE and U+FFFF): escaping cannot
// make those valid, and names come from customer data.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == utf8.RuneError, r == 0xFFFE, r == 0xFFFF:
			return -1
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r':
			return -1
		}
		return r
	}, s)
}
