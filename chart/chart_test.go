package chart

import (
	"encoding/xml"
	"errors"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
)

var nan = math.NaN()

// parse checks out is well-formed XML with an <svg> root and returns its
// elements in document order.
func parse(t *testing.T, out template.HTML) []xml.StartElement {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(string(out)))
	var els []xml.StartElement
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not valid XML: %v\n%s", err, out)
		}
		if se, ok := tok.(xml.StartElement); ok {
			els = append(els, se.Copy())
		}
	}
	if len(els) == 0 || els[0].Name.Local != "svg" {
		t.Fatalf("root is not <svg>:\n%s", out)
	}
	return els
}

// safe checks what the CSP forbids is absent.
func safe(t *testing.T, out template.HTML) {
	t.Helper()
	low := strings.ToLower(string(out))
	for _, bad := range []string{"style=", "<script", "<style", "@import", "href="} {
		if strings.Contains(low, bad) {
			t.Errorf("output contains %q:\n%s", bad, out)
		}
	}
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func named(els []xml.StartElement, name string) []xml.StartElement {
	var out []xml.StartElement
	for _, e := range els {
		if e.Name.Local == name {
			out = append(out, e)
		}
	}
	return out
}

// pts parses a polyline's points attribute.
func pts(t *testing.T, e xml.StartElement) [][2]float64 {
	t.Helper()
	var out [][2]float64
	for _, p := range strings.Fields(attr(e, "points")) {
		x, y, ok := strings.Cut(p, ",")
		fx, err1 := strconv.ParseFloat(x, 64)
		fy, err2 := strconv.ParseFloat(y, 64)
		if !ok || err1 != nil || err2 != nil {
			t.Fatalf("bad point %q", p)
		}
		out = append(out, [2]float64{fx, fy})
	}
	return out
}

func TestSparklineGapsAndScale(t *testing.T) {
	out := Sparkline([]float64{1, 3, nan, 5, 7, 9, nan, 4}, 100, 22)
	safe(t, out)
	els := parse(t, out)
	lines := named(els, "polyline")
	if len(lines) != 2 {
		t.Fatalf("%d polylines, want 2 (a NaN splits the line; the lone 4 is a dot):\n%s", len(lines), out)
	}
	a, b := pts(t, lines[0]), pts(t, lines[1])
	if len(a) != 2 || len(b) != 3 {
		t.Errorf("points per piece = %d, %d; want 2, 3", len(a), len(b))
	}
	if dots := named(els, "circle"); len(dots) != 1 {
		t.Errorf("%d dots, want 1 for the lone point between a gap and the end", len(dots))
	}
	// y: the minimum (1) sits at the bottom inset, the maximum (9) at the top;
	// 5 is half way. x: eight slots from 2 to 98.
	if a[0][1] != 20 || b[2][1] != 2 || b[0][1] != 11 {
		t.Errorf("y of 1, 9, 5 = %v, %v, %v; want 20, 2, 11", a[0][1], b[2][1], b[0][1])
	}
	if a[0][0] != 2 || math.Abs(b[0][0]-(2+3*96.0/7)) > 0.05 { // coordinates keep one decimal
		t.Errorf("x of points 0 and 3 = %v, %v", a[0][0], b[0][0])
	}
}

func TestSparklineEdgeCases(t *testing.T) {
	for name, values := range map[string][]float64{
		"empty": nil, "all NaN": {nan, nan}, "single": {5}, "all equal": {2, 2, 2}, "infinite": {math.Inf(1), 1, 2},
	} {
		out := Sparkline(values, 0, 0)
		safe(t, out)
		els := parse(t, out)
		if w := attr(els[0], "width"); w != "120" {
			t.Errorf("%s: default width = %s", name, w)
		}
		lines, dots := named(els, "polyline"), named(els, "circle")
		switch name {
		case "empty", "all NaN":
			if len(lines)+len(dots) != 0 {
				t.Errorf("%s: drew %d lines %d dots, want none", name, len(lines), len(dots))
			}
		case "single":
			if len(dots) != 1 || attr(dots[0], "cx") != "60" || attr(dots[0], "cy") != "12" {
				t.Errorf("single point: %s", out)
			}
		case "all equal":
			if len(lines) != 1 || pts(t, lines[0])[1][1] != 12 {
				t.Errorf("all equal: want a flat line through the middle: %s", out)
			}
		case "infinite":
			if len(lines) != 1 || len(pts(t, lines[0])) != 2 {
				t.Errorf("infinite: want it treated as a gap: %s", out)
			}
		}
	}
}

const hostile = `<script>alert("x")</script>" onload="alert(1)' & ]]> ` + "\x01\x00\xff"

func TestLinesEscapesAndLabels(t *testing.T) {
	labels := []string{"w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "w9", "w10", "w11", hostile}
	series := []Series{
		{Name: hostile, Values: []float64{1, 2, 3, nan, 5, 6, 7, 8, 9, 10, 11, 12}, Class: `tier-critical" style="x`},
		{Name: "ARR at risk", Values: []float64{12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}},
	}
	out := Lines(series, labels, 400, 200)
	safe(t, out)
	els := parse(t, out)
	s := string(out)
	if strings.Contains(s, "<script>") || strings.Contains(s, `"x"`) {
		t.Errorf("hostile name not escaped:\n%s", s)
	}
	if !strings.Contains(s, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Errorf("escaped name missing from legend or titles:\n%s", s)
	}
	// Two pieces for the first series (gap at w4), one for the second.
	if n := len(named(els, "polyline")); n != 3 {
		t.Errorf("%d polylines, want 3", n)
	}
	if !strings.Contains(s, "<title>ARR at risk, w3: 10</title>") {
		t.Errorf("no tooltip 'ARR at risk, w3: 10':\n%s", s)
	}
	if strings.Count(s, "<title>") != 23 {
		t.Errorf("%d tooltips, want 23 (one per known point)", strings.Count(s, "<title>"))
	}
	// y axis: min 1 and max 12; x labels: first, last, some between.
	for _, want := range []string{">12</text>", ">1</text>", ">w1</text>", ">w4</text>"} {
		if !strings.Contains(s, want) {
			t.Errorf("no %q in the axes", want)
		}
	}
	var xl []string
	for _, e := range els {
		if attr(e, "class") == "x-labels" {
			xl = append(xl, "group")
		}
	}
	if len(xl) != 1 {
		t.Errorf("x label groups = %d", len(xl))
	}
}

func TestLinesEdgeCases(t *testing.T) {
	cases := map[string]struct {
		series []Series
		labels []string
	}{
		"empty":     {nil, nil},
		"all NaN":   {[]Series{{Name: "a", Values: []float64{nan, nan}}}, []string{"x", "y"}},
		"single":    {[]Series{{Name: "a", Values: []float64{3}}}, []string{"only"}},
		"all equal": {[]Series{{Name: "a", Values: []float64{2, 2}}, {Name: "b", Values: []float64{2, 2}}}, []string{"x", "y"}},
		"no labels": {[]Series{{Name: "a", Values: []float64{1, 2, 3}}}, nil},
		"short":     {[]Series{{Name: "a", Values: []float64{1}}}, []string{"x", "y", "z"}},
	}
	for name, c := range cases {
		out := Lines(c.series, c.labels, 0, 0)
		safe(t, out)
		parse(t, out)
		s := string(out)
		switch name {
		case "empty", "all NaN":
			if !strings.Contains(s, "No data") {
				t.Errorf("%s: no 'No data':\n%s", name, s)
			}
		case "single":
			if !strings.Contains(s, "<title>a, only: 3</title>") {
				t.Errorf("single: %s", s)
			}
		case "all equal":
			if strings.Count(s, ">2</text>") != 1 {
				t.Errorf("all equal: want one y label '2':\n%s", s)
			}
		case "no labels":
			if !strings.Contains(s, "<title>a, 3: 3</title>") {
				t.Errorf("no labels: points are numbered from 1:\n%s", s)
			}
		}
	}
}

func TestBars(t *testing.T) {
	labels := []string{"2026-11-02", "2026-11-09", "2026-11-16"}
	series := []Series{
		{Name: "critical", Values: []float64{100, nan, 50}, Class: "tier-critical"},
		{Name: hostile, Values: []float64{50, nan, 150}, Class: "tier-elevated"},
	}
	out := Bars(series, labels, 300, 150)
	safe(t, out)
	els := parse(t, out)
	s := string(out)
	var bars []xml.StartElement
	for _, r := range named(els, "rect") {
		if attr(r, "width") != "10" { // legend swatches are 10 wide
			bars = append(bars, r)
		}
	}
	if len(bars) != 4 {
		t.Fatalf("%d bar segments, want 4 (the all-NaN week has none):\n%s", len(bars), s)
	}
	// Stacked: the tallest stack (200) reaches the top of the plot; 150 of
	// the third week is three times the 50 on the first.
	top, h := func(e xml.StartElement) float64 { f, _ := strconv.ParseFloat(attr(e, "y"), 64); return f },
		func(e xml.StartElement) float64 { f, _ := strconv.ParseFloat(attr(e, "height"), 64); return f }
	first, second := bars[0], bars[2] // critical w1, elevated w1
	if top(second)+h(second) != top(first) {
		t.Errorf("elevated is not stacked on critical: %v+%v vs %v", top(second), h(second), top(first))
	}
	if r := h(bars[3]) / h(bars[2]); math.Abs(r-3) > 0.05 {
		t.Errorf("150 / 50 bar heights = %v, want 3", r)
	}
	if !strings.Contains(s, "<title>critical, 2026-11-16: 50</title>") || strings.Contains(s, "<script>") {
		t.Errorf("titles or escaping wrong:\n%s", s)
	}
	if !strings.Contains(s, ">200</text>") || !strings.Contains(s, ">0</text>") {
		t.Errorf("y labels should be 0 and 200:\n%s", s)
	}
	for name, in := range map[string][]Series{"empty": nil, "all NaN": {{Name: "a", Values: []float64{nan}}},
		"zeros": {{Name: "a", Values: []float64{0, 0}}}, "negative": {{Name: "a", Values: []float64{-5, 5}}}} {
		out := Bars(in, nil, 0, 0)
		safe(t, out)
		parse(t, out)
		if (name == "empty" || name == "all NaN") != strings.Contains(string(out), "No data") {
			t.Errorf("%s: 'No data' shown wrongly:\n%s", name, out)
		}
	}
}

func TestTicks(t *testing.T) {
	for n, want := range map[int]string{0: "[]", 1: "[0]", 6: "[0 1 2 3 4 5]", 8: "[0 2 4 7]", 12: "[0 3 6 9 11]", 52: "[0 11 22 33 44 51]"} {
		if got := fmtInts(ticks(n, 6)); got != want {
			t.Errorf("ticks(%d) = %s, want %s", n, got, want)
		}
	}
}

func fmtInts(xs []int) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.Itoa(x)
	}
	return "[" + strings.Join(parts, " ") + "]"
}
