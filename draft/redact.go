package draft

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	emailRE = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
	// Phone numbers in the common written forms: +1 415 555 0100,
	// (415) 555-0100, 415.555.0100, +8613800138000, 13800138000. Dates
	// (2026-11-16) and plain figures do not match: the groups need a
	// separator and at least three digits after the area code.
	phoneREs = []*regexp.Regexp{
		regexp.MustCompile(`(?:\+\d{1,3}[\s.\-]?)?(?:\(\d{2,4}\)\s?|\b\d{2,4}[\s.\-])\d{3,4}[\s.\-]\d{3,4}\b`),
		regexp.MustCompile(`\+\d{8,15}\b`),
		regexp.MustCompile(`\b1[3-9]\d{9}\b`),
	}
)

// Redactor replaces personal data with placeholders ([EMAIL_1], [PHONE_1],
// [PII_1] or [NAME_1] for a pattern given as NAME=regex) before text leaves
// the process, and a Redaction puts the originals back into the answer.
type Redactor struct {
	rules []redactRule
}

type redactRule struct {
	label string
	re    *regexp.Regexp
}

var labelRE = regexp.MustCompile(`^[A-Z][A-Z0-9]*$`)

// NewRedactor returns a redactor for e-mail addresses, phone numbers and the
// extra patterns, each a Go regexp, optionally prefixed LABEL= to name its
// placeholder.
func NewRedactor(extra []string) (*Redactor, error) {
	r := &Redactor{}
	for _, p := range extra {
		label := "PII"
		if i := strings.Index(p, "="); i > 0 && labelRE.MatchString(p[:i]) {
			label, p = p[:i], p[i+1:]
		}
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("draft: redact pattern %q: %w", p, err)
		}
		r.rules = append(r.rules, redactRule{label, re})
	}
	// Configured patterns run first: they are the most specific.
	r.rules = append(r.rules, redactRule{"EMAIL", emailRE})
	for _, re := range phoneREs {
		r.rules = append(r.rules, redactRule{"PHONE", re})
	}
	return r, nil
}

// Redaction remembers the placeholders of one request, so the same value
// always gets the same placeholder and the answer can be restored.
type Redaction struct {
	byValue map[string]string
	values  map[string]string // placeholder -> original
	counts  map[string]int
}

// NewRedaction starts an empty redaction.
func NewRedaction() *Redaction {
	return &Redaction{byValue: map[string]string{}, values: map[string]string{}, counts: map[string]int{}}
}

// Redact replaces personal data in s, recording the placeholders in rd.
func (r *Redactor) Redact(s string, rd *Redaction) string {
	for _, rule := range r.rules {
		s = rule.re.ReplaceAllStringFunc(s, func(v string) string {
			if placeholderRE.MatchString(v) && placeholderRE.FindString(v) == v {
				return v
			}
			if ph, ok := rd.byValue[v]; ok {
				return ph
			}
			rd.counts[rule.label]++
			ph := fmt.Sprintf("[%s_%d]", rule.label, rd.counts[rule.label])
			rd.byValue[v], rd.values[ph] = ph, v
			return ph
		})
	}
	return s
}

// Len is how many distinct values were redacted.
func (rd *Redaction) Len() int { return len(rd.values) }

// Restore puts the original values back in place of the placeholders.
func (rd *Redaction) Restore(s string) string {
	if len(rd.values) == 0 || !strings.Contains(s, "[") {
		return s
	}
	return placeholderRE.ReplaceAllStringFunc(s, func(ph string) string {
		if v, ok := rd.values[ph]; ok {
			return v
		}
		return ph
	})
}
