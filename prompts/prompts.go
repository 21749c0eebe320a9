// Package prompts holds the versioned text templates Churnwatch drafts with:
// the system and user messages sent to an LLM, the JSON schema its answer
// must follow, and the offline drafter's own templates (English and Chinese)
// for the risk brief, save plan, outreach email, call agenda and the
// leadership summary narrative.
//
// Templates are embedded, so a binary always drafts with the templates it
// was built with, and Version is recorded in every draft so a reviewer can
// tell which wording produced it.
package prompts

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"text/template"
)

// Version names the templates in this package. Change it whenever any
// template or the draft schema changes; it is stored in review.Draft.PromptVersion.
const Version = "churnwatch-prompts/2026-07.1"

// CalendarPlaceholder is what outreach emails carry where the CSM's booking
// link goes; it is replaced when the CSM sends the approved email.
const CalendarPlaceholder = "{{calendar_link}}"

// Lang is a language the offline templates are written in.
type Lang string

const (
	English Lang = "en"
	Chinese Lang = "zh"
)

// Normalize maps a BCP 47 tag ("zh-CN", "en_US", "ZH") to a template
// language. ok is false when no template exists for the tag, in which case
// English is returned so the caller can say so in a note.
func Normalize(tag string) (lang Lang, ok bool) {
	t := strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(t, "-_"); i >= 0 {
		t = t[:i]
	}
	switch t {
	case "en", "":
		return English, t == "en"
	case "zh":
		return Chinese, true
	}
	return English, false
}

//go:embed templates/*.tmpl templates/*.json
var files embed.FS

// DraftSchema is the JSON schema an LLM's draft must follow. It is sent as
// the response_format json_schema where the server supports it, quoted in
// the system message for servers that only offer JSON mode, and used to
// validate the answer either way.
var DraftSchema = mustRead("templates/draft_schema.json")

var funcs = template.FuncMap{
	"join":  strings.Join,
	"num":   FormatNumber,
	"nums":  formatNumbers,
	"money": FormatMoney,
	"json":  toJSON,
	"trimdot": func(s string) string {
		return strings.TrimRight(strings.TrimSpace(s), ".。")
	},
	"add":    func(a, b int) int { return a + b },
	"pct":    pct,
	"derefF": deref[float64],
	"derefI": deref[int],
	"signed": func(n int) string { return fmt.Sprintf("%+d", n) },
}

var (
	llm     = template.Must(template.New("llm").Funcs(funcs).ParseFS(files, "templates/llm_*.tmpl"))
	offline = map[Lang]*template.Template{
		English: template.Must(template.New("en").Funcs(funcs).ParseFS(files, "templates/offline_en.tmpl")),
		Chinese: template.Must(template.New("zh").Funcs(funcs).ParseFS(files, "templates/offline_zh.tmpl")),
	}
)

func mustRead(name string) []byte {
	b, err := files.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return b
}

// Render executes the offline template called name in lang.
func Render(lang Lang, name string, data any) (string, error) {
	t, ok := offline[lang]
	if !ok {
		return "", fmt.Errorf("prompts: no offline templates for language %q", lang)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("prompts: render %s/%s: %w", lang, name, err)
	}
	return strings.TrimSpace(b.String()), nil
}

// RenderLines executes a template whose output is one item per line and
// returns the non-empty lines.
func RenderLines(lang Lang, name string, data any) ([]string, error) {
	s, err := Render(lang, name, data)
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines, nil
}

// SystemData fills the LLM system message.
type SystemData struct {
	OutreachLanguage string // the account's language, for the email
	BriefLanguage    string // the CSM's language, for brief, plan and agenda
	CalendarLink     string // the placeholder or link the email's call to action uses
	MaxWords         int    // the email's word limit
	Schema           string // filled by System from DraftSchema
}

// UserData fills the LLM user message. Evidence and Notes are already
// serialised JSON; the template fences them and labels them as data.
type UserData struct {
	ReviewID string
	Owner    string
	Evidence string // JSON: the assessment's facts and signals, PII redacted
	Notes    string // JSON array of CRM notes and customer text, PII redacted
}

// System renders the LLM system message.
func System(d SystemData) (string, error) {
	d.Schema = string(DraftSchema)
	return execLLM("llm_system.tmpl", d)
}

// User renders the LLM user message.
func User(d UserData) (string, error) { return execLLM("llm_user.tmpl", d) }

// Repair renders the message that sends a rejected draft's problems back to
// the model for one more attempt.
func Repair(problems []string) (string, error) {
	return execLLM("llm_repair.tmpl", struct{ Problems []string }{problems})
}

func execLLM(name string, data any) (string, error) {
	var b bytes.Buffer
	if err := llm.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("prompts: render %s: %w", name, err)
	}
	return strings.TrimSpace(b.String()), nil
}

// FormatNumber writes a number the way drafts quote evidence: integers
// without a decimal point, other values with at most two decimals.
func FormatNumber(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

func formatNumbers(vs []float64) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = FormatNumber(v)
	}
	return strings.Join(parts, ", ")
}

// FormatMoney writes an amount with thousands separators and a dollar sign,
// rounded to whole units: 120000 -> "$120,000".
func FormatMoney(v float64) string {
	s := GroupThousands(v)
	if neg, ok := strings.CutPrefix(s, "-"); ok {
		return "-$" + neg
	}
	return "$" + s
}

// GroupThousands writes v rounded to whole units with thousands
// separators: 120000 -> "120,000".
func GroupThousands(v float64) string {
	n := int64(math.Round(v))
	neg := n < 0
	if neg {
		n = -n
	}
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func toJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
