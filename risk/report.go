package risk

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/churnwatch/churnwatch/snapshot"
)

// Report is the ranked result of scoring a batch: the JSON object that
// `starter score --json` prints (docs/cli.md).
type Report struct {
	AsOf     string               `json:"as_of"`
	Accounts []Assessment         `json:"accounts"`
	Rejected []snapshot.Rejection `json:"rejected"`
	Warnings []string             `json:"warnings"`
}

// NewReport scores every account of the batch as of asOf (zero: the latest
// week in the batch) and carries the batch's rejections and warnings.
func (m Model) NewReport(b snapshot.Batch, asOf time.Time) Report {
	if asOf.IsZero() {
		asOf = LatestWeek(b.Rows)
	}
	return m.report(m.ScorePortfolio(b.Rows, asOf), b, asOf)
}

// NewTableReport is NewReport for a batch read with snapshot.ReadTable:
// the rows are in t, the rejections and warnings in b.
func (m Model) NewTableReport(t *snapshot.Table, b snapshot.Batch, asOf time.Time) Report {
	if asOf.IsZero() {
		asOf = tableLatestWeek(t)
	}
	return m.report(m.ScoreTable(t, asOf), b, asOf)
}

func (m Model) report(accounts []Assessment, b snapshot.Batch, asOf time.Time) Report {
	r := Report{
		Accounts: accounts,
		Rejected: b.Rejected,
		Warnings: b.Warnings,
	}
	if !asOf.IsZero() {
		r.AsOf = snapshot.FormatDate(snapshot.Monday(asOf))
	}
	if r.Accounts == nil {
		r.Accounts = []Assessment{}
	}
	if r.Rejected == nil {
		r.Rejected = []snapshot.Rejection{}
	}
	if r.Warnings == nil {
		r.Warnings = []string{}
	}
	return r
}

// WriteJSON writes the report as JSON, one element at a time and each
// element of its arrays on a line of its own: a large book's report is
// several times the size of its assessments, and holding all of it at once
// doubled the memory of `starter score --json`. Indenting inside an
// account took a third of the command's time and half its output for
// nobody: a line per account is what grep and jq read best.
func (r Report) WriteJSON(w io.Writer) error {
	return writeReportJSON(w, r.AsOf, func(bw *bufio.Writer) error {
		return writeJSONArray(bw, "accounts", r.Accounts)
	}, r.Rejected, r.Warnings)
}

// writeReportJSON writes a report's object: as_of, the accounts array
// accounts writes (",\n  \"accounts\": [...]"), the rejected rows and the
// warnings.
func writeReportJSON(w io.Writer, asOf string, accounts func(*bufio.Writer) error, rejected []snapshot.Rejection, warnings []string) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	b, _ := json.Marshal(asOf) // a string always marshals
	bw.WriteString("{\n  \"as_of\": ")
	bw.Write(b)
	if err := accounts(bw); err != nil {
		return err
	}
	if err := writeJSONArray(bw, "rejected", rejected); err != nil {
		return err
	}
	if err := writeJSONArray(bw, "warnings", warnings); err != nil {
		return err
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}

// writeJSONArray writes `,\n  "name": [...]` at the indentation WriteJSON uses.
func writeJSONArray[T any](bw *bufio.Writer, name string, elems []T) error {
	bw.WriteString(",\n  \"" + name + "\": ")
	if len(elems) == 0 {
		if elems == nil {
			bw.WriteString("null")
		} else {
			bw.WriteString("[]")
		}
		return nil
	}
	aw := newJSONArrayWriter[T](bw)
	for i := range elems {
		if err := aw.write(&elems[i]); err != nil {
			return err
		}
	}
	aw.close()
	return nil
}

// jsonArrayWriter writes a non-empty JSON array an element a line. One
// Encoder and one buffer serve every element: json.Marshal would allocate
// each element's bytes anew.
type jsonArrayWriter[T any] struct {
	bw  *bufio.Writer
	buf bytes.Buffer
	enc *json.Encoder
	n   int
}

func newJSONArrayWriter[T any](bw *bufio.Writer) *jsonArrayWriter[T] {
	aw := &jsonArrayWriter[T]{bw: bw}
	aw.enc = json.NewEncoder(&aw.buf)
	bw.WriteString("[")
	return aw
}

func (aw *jsonArrayWriter[T]) write(elem *T) error {
	aw.buf.Reset()
	if err := aw.enc.Encode(elem); err != nil {
		return err
	}
	return aw.writeEncoded(aw.buf.Bytes())
}

// writeEncoded writes an element json.Encoder encoded (its newline too).
func (aw *jsonArrayWriter[T]) writeEncoded(b []byte) error {
	if aw.n++; aw.n > 1 {
		aw.bw.WriteString(",")
	}
	aw.bw.WriteString("\n    ")
	_, err := aw.bw.Write(bytes.TrimSuffix(b, []byte("\n")))
	return err
}

func (aw *jsonArrayWriter[T]) close() { aw.bw.WriteString("\n  ]") }

// missingSummary writes an assessment's missing fields for the table: the
// fields a broken feed left stale for the same weeks as one count ("18
// fields stale 6 weeks"), the others by name. The JSON report lists each.
func missingSummary(a Assessment) string {
	missing := a.MissingText()
	stale := map[string]int{} // " (stale 6 weeks)" -> fields
	for _, f := range missing {
		if i := strings.Index(f, " (stale "); i > 0 {
			stale[f[i:]]++
		}
	}
	var out []string
	for _, f := range missing {
		i := strings.Index(f, " (stale ")
		switch {
		case i < 0 || (stale[f[i:]] > 0 && stale[f[i:]] < 4):
			out = append(out, f)
		case stale[f[i:]] > 0:
			out = append(out, strconv.Itoa(stale[f[i:]])+" fields "+strings.Trim(f[i:], " ()"))
			stale[f[i:]] = -1 // written
		}
	}
	return strings.Join(out, ",")
}

// WriteTable prints the report for people: one line per account in the
// order it is ranked (tier, then the urgency it shows), with its strongest
// signals, then the rejected rows. Signals listed for their evidence but
// worth no points stay in the JSON report, not in the table's short list.
func (r Report) WriteTable(w io.Writer) error {
	lines := make([]tableLine, len(r.Accounts))
	for i := range r.Accounts {
		lines[i] = newTableLine(&r.Accounts[i])
	}
	return writeTable(w, r.AsOf, lines, r.Rejected, r.Warnings)
}

// tableLine is an account's line of the table, but for its rank: tier,
// urgency, score, account, owner and top signals.
type tableLine [6]string

var tableHeader = [7]string{"#", "TIER", "URGENCY", "SCORE", "ACCOUNT", "OWNER", "TOP SIGNALS"}

func newTableLine(a *Assessment) tableLine {
	top := topSignals(a.Signals, 3)
	if a.Tier == InsufficientEvidence && len(a.Missing) > 0 {
		top = append(top, "missing: "+missingSummary(*a))
	}
	name := a.AccountName
	if name == "" {
		name = a.AccountID
	} else {
		name += " (" + a.AccountID + ")"
	}
	return tableLine{string(a.Tier), strconv.FormatFloat(a.Urgency, 'f', 1, 64), strconv.Itoa(a.Score), name, a.Owner, strings.Join(top, ", ")}
}

// writeTable prints lines, ranked first to last, under the table's header,
// then the rejected rows and the warnings.
func writeTable(w io.Writer, asOf string, lines []tableLine, rejected []snapshot.Rejection, warnings []string) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	fmt.Fprintf(bw, "Risk as of %s: %d accounts, by tier then urgency (score raised by ARR, renewal and strategic weight)\n\n", asOf, len(lines))
	row := func(i int) [7]string {
		if i == 0 {
			return tableHeader
		}
		l := &lines[i-1]
		return [7]string{strconv.Itoa(i), l[0], l[1], l[2], l[3], l[4], l[5]}
	}
	writeColumns(bw, len(lines)+1, row)
	if len(rejected) > 0 {
		fmt.Fprintf(bw, "\n%d rejected rows:\n", len(rejected))
		for _, x := range rejected {
			fmt.Fprintf(bw, "  %s row %d, %s: %s\n", x.File, x.Row, x.Field, x.Reason)
		}
	}
	for _, s := range warnings {
		fmt.Fprintf(bw, "warning: %s\n", s)
	}
	return bw.Flush()
}

// topSignals names the first n signals that carry points ("login_drop(27)"),
// then how many more do.
func topSignals(signals []Signal, n int) []string {
	var top []string
	scored := 0
	for _, s := range signals {
		if s.Points == 0 {
			continue
		}
		if scored++; scored <= n {
			top = append(top, s.ID+"("+strconv.Itoa(s.Points)+")")
		}
	}
	if scored > n {
		top = append(top, "+"+strconv.Itoa(scored-n)+" more")
	}
	return top
}

// writeColumns prints n rows, row(i) giving each, as aligned columns two
// spaces apart: once to measure, once to write, so that a book's table is
// never held whole. Unlike text/tabwriter it measures cells in terminal
// columns, so names in Chinese, Japanese or Korean (two columns a
// character) stay aligned.
func writeColumns(bw *bufio.Writer, n int, row func(i int) [7]string) {
	var widths [7]int
	for i := range n {
		r := row(i)
		for c, cell := range r {
			widths[c] = max(widths[c], displayWidth(cell))
		}
	}
	for i := range n {
		r := row(i)
		for c, cell := range r {
			bw.WriteString(cell)
			if c < len(r)-1 {
				for range widths[c] - displayWidth(cell) + 2 {
					bw.WriteByte(' ')
				}
			}
		}
		bw.WriteByte('\n')
	}
}

// displayWidth is how many terminal columns s takes: two for East Asian
// wide characters, none for combining marks, one for the rest.
func displayWidth(s string) int {
	ascii := true
	for i := 0; i < len(s) && ascii; i++ {
		ascii = s[i] < utf8.RuneSelf
	}
	if ascii { // most cells, and the unicode tables cost a sixth of the table
		return len(s)
	}
	n := 0
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.In(r, unicode.Han, unicode.Hangul, unicode.Hiragana, unicode.Katakana),
			r >= 0x3000 && r <= 0x303f,                             // CJK symbols and punctuation
			r >= 0xff01 && r <= 0xff60, r >= 0xffe0 && r <= 0xffe6: // fullwidth forms
			n += 2
		default:
			n++
		}
	}
	return n
}
