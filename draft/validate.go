package draft

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/churnwatch/churnwatch/review"
)

// Validate checks a draft against the request's evidence and returns the
// problems found, each a sentence a model can act on; nil means the draft
// may go to the CSM. The rules:
//
//   - Every brief sentence with a number cites evidence ids in [brackets];
//     every id cited anywhere exists (a signal id, or "account"); the brief
//     cites the strongest signal and every stakeholder and support signal.
//   - Every number in the draft appears in the evidence (see evidence.allows);
//     dates are YYYY-MM-DD dates from the evidence. Plan steps, agenda and
//     email may also use day numbers 0..14 and meeting lengths 15..60 minutes.
//     E-mail addresses, phone numbers, URLs, placeholders and citations are
//     not figures.
//   - The brief says the cause is suspected; neither brief nor email calls an
//     at-risk account healthy.
//   - The plan has 4 to 7 steps on days 0..14 in order, each with an action
//     and an owner.
//   - The email has a subject, at most MaxOutreachWords words, refers to the
//     success goal, carries the calendar link, offers no concession and is
//     not the generic "we noticed you haven't logged in".
//   - The agenda has at least three items.
func Validate(req Request, d review.Draft) []string {
	v := validator{req: req, ev: newEvidence(req.Assessment)}
	v.brief(d)
	v.plan(d.SavePlan)
	v.outreach(d.Outreach)
	if len(d.CallAgenda) < 3 {
		v.addf("call_agenda has %d items; it needs at least 3", len(d.CallAgenda))
	}
	for i, item := range d.CallAgenda {
		v.citations(fmt.Sprintf("call_agenda[%d]", i), item)
		v.numbers(fmt.Sprintf("call_agenda[%d]", i), item, planConstants)
	}
	return v.problems
}

type validator struct {
	req      Request
	ev       *evidence
	problems []string
}

func (v *validator) addf(format string, args ...any) {
	v.problems = append(v.problems, fmt.Sprintf(format, args...))
}

var (
	// citationRE finds [id] and [id, id] groups. Placeholders such as
	// [EMAIL_1] are upper case and are not citations.
	citationRE    = regexp.MustCompile(`\[([a-z0-9][a-z0-9_.:\-]*(?:\s*,\s*[a-z0-9][a-z0-9_.:\-]*)*)\]`)
	placeholderRE = regexp.MustCompile(`\[[A-Z]+_\d+\]|\{\{[^{}]*\}\}`)
	urlRE         = regexp.MustCompile(`https?://[^\s)\]>"]+`)

	suspectedRE = regexp.MustCompile(`(?i)suspect|hypothes|unconfirmed|not (yet )?confirmed|疑似|推测|未确认|尚未确认`)
	healthyRE   = regexp.MustCompile(`(?i)\b(is|are|looks|appears|remains|seems|stays)\s+(healthy|fine|stable|safe|low[- ]risk|in good shape)\b|\bno (churn )?risk\b|\bnot at risk\b|\b(healthy|safe) account\b|\bno action (is )?(needed|required)\b|(账户|客户|状态)(很|非常|目前)?(健康|良好|稳定)|(没有|无)(流失)?风险|风险(很|较)低|无需(采取)?(任何)?行动`)
	genericRE   = regexp.MustCompile(`(?i)(have|has)n'?t (been )?logg|have not (been )?logg|noticed (that )?you|没有登录|未登录|很久没有使用`)
	concessRE   = regexp.MustCompile(`(?i)\b(discount|refund|rebate|credits?|free (month|months|seats?|licen[cs]es?|upgrade)|price (cut|reduction))\b|\d+\s?% off|折扣|打折|退款|返现|免费`)
)

// citedIDs returns the ids cited in s, in order, with duplicates.
func citedIDs(s string) []string {
	var ids []string
	for _, m := range citationRE.FindAllStringSubmatch(s, -1) {
		for _, id := range strings.Split(m[1], ",") {
			ids = append(ids, strings.TrimSpace(id))
		}
	}
	return ids
}

// citedSignals returns the signal ids cited in s, each once, in order.
func citedSignals(s string, ev *evidence) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, id := range citedIDs(s) {
		if _, ok := ev.signals[id]; ok && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func (v *validator) knownID(id string) bool {
	_, ok := v.ev.signals[id]
	return ok || id == AccountEvidenceID
}

func (v *validator) citations(where, s string) {
	for _, id := range citedIDs(s) {
		if !v.knownID(id) {
			v.addf("%s cites evidence id %q, which is not in the evidence", where, id)
		}
	}
}

func (v *validator) brief(d review.Draft) {
	if strings.TrimSpace(d.Brief) == "" {
		v.addf("brief is empty")
		return
	}
	v.citations("brief", d.Brief)
	for _, id := range d.BriefCitations {
		if !v.knownID(id) {
			v.addf("brief_citations lists %q, which is not in the evidence", id)
		}
	}
	cited := map[string]bool{}
	for _, id := range citedIDs(d.Brief) {
		cited[id] = true
	}
	if len(v.ev.ordered) > 0 && len(citedSignals(d.Brief, v.ev)) == 0 {
		v.addf("brief cites no signal; every factual sentence must end with the evidence ids it rests on, e.g. [%s]", v.ev.ordered[0].ID)
	}
	if len(v.ev.ordered) > 0 && !cited[v.ev.ordered[0].ID] {
		v.addf("brief does not cite the strongest signal [%s]", v.ev.ordered[0].ID)
	}
	for _, s := range v.ev.ordered {
		if (s.Dimension == "relationship" || s.Dimension == "support") && !cited[s.ID] {
			v.addf("brief does not flag %s signal [%s]; stakeholder silence and unresolved support issues are always flagged", s.Dimension, s.ID)
		}
	}
	for _, sentence := range sentences(d.Brief) {
		if len(extractNumbers(maskNonFigures(sentence))) > 0 || dateRE.MatchString(sentence) {
			if len(citedIDs(sentence)) == 0 {
				v.addf("brief sentence %q states figures but cites no evidence id", clip(sentence, 80))
			}
		}
	}
	v.numbers("brief", d.Brief, nil)

	if strings.TrimSpace(d.SuspectedCause) == "" {
		v.addf("suspected_cause is empty")
	}
	v.citations("suspected_cause", d.SuspectedCause)
	v.numbers("suspected_cause", d.SuspectedCause, nil)
	if !suspectedRE.MatchString(d.Brief) {
		v.addf("brief must say the cause is suspected until the CSM confirms it")
	}
	for where, s := range map[string]string{"brief": d.Brief, "suspected_cause": d.SuspectedCause} {
		if m := healthyRE.FindString(s); m != "" && v.req.Assessment.Tier.AtRisk() {
			v.addf("%s calls the account healthy or risk-free (%q) but it is %s", where, m, v.req.Assessment.Tier)
		}
	}
}

func (v *validator) plan(plan []review.PlanStep) {
	if len(plan) < 4 || len(plan) > 7 {
		v.addf("save_plan has %d steps; it needs 4 to 7", len(plan))
	}
	last := 0
	for i, st := range plan {
		where := fmt.Sprintf("save_plan[%d]", i)
		if st.Day < 0 || st.Day > 14 {
			v.addf("%s is on day %d; steps run from day 0 to day 14", where, st.Day)
		}
		if st.Day < last {
			v.addf("%s (day %d) comes after a step on day %d; steps must be in day order", where, st.Day, last)
		}
		last = st.Day
		if strings.TrimSpace(st.Action) == "" {
			v.addf("%s has no action", where)
		}
		if strings.TrimSpace(st.Owner) == "" {
			v.addf("%s has no owner", where)
		}
		for _, id := range st.EvidenceIDs {
			if !v.knownID(id) {
				v.addf("%s lists evidence id %q, which is not in the evidence", where, id)
			}
		}
		v.citations(where, st.Action)
		v.numbers(where, st.Action, planConstants)
		v.numbers(where, st.Owner, nil)
		for _, p := range st.TalkingPoints {
			v.citations(where, p)
			v.numbers(where, p, planConstants)
		}
	}
}

func (v *validator) outreach(e review.Email) {
	if strings.TrimSpace(e.Subject) == "" {
		v.addf("outreach has no subject")
	}
	if strings.TrimSpace(e.Body) == "" {
		v.addf("outreach has no body")
		return
	}
	if n := countWords(e.Body); n > MaxOutreachWords {
		v.addf("outreach body has %d words; the limit is %d", n, MaxOutreachWords)
	}
	if link := v.req.calendarLink(); !strings.Contains(e.Body, link) {
		v.addf("outreach body must end with a call to action containing %s", link)
	}
	if goal := v.req.Assessment.SuccessGoal; goal != "" && !mentionsGoal(e.Subject+"\n"+e.Body, goal) {
		v.addf("outreach must refer to the customer's success goal %q", goal)
	}
	both := e.Subject + "\n" + e.Body
	if m := genericRE.FindString(both); m != "" {
		v.addf("outreach reads like a generic \"we noticed you haven't logged in\" message (%q)", m)
	}
	if m := concessRE.FindString(both); m != "" {
		v.addf("outreach offers a commercial concession (%q); only the CSM decides those", m)
	}
	if m := healthyRE.FindString(both); m != "" && v.req.Assessment.Tier.AtRisk() {
		v.addf("outreach calls the account healthy or risk-free (%q)", m)
	}
	if len(citedIDs(both)) > 0 {
		v.addf("outreach must not carry evidence citations; it goes to the customer")
	}
	v.numbers("outreach subject", e.Subject, planConstants)
	v.numbers("outreach body", e.Body, planConstants)
}

// numbers reports every figure in s that is not in the evidence or extra.
func (v *validator) numbers(where, s string, extra []float64) {
	masked := maskNonFigures(s)
	for _, d := range dateRE.FindAllString(masked, -1) {
		if !v.ev.dates[d] {
			v.addf("%s has the date %s, which is not in the evidence", where, d)
		}
	}
	for _, n := range extractNumbers(masked) {
		if !v.ev.allows(n, extra) {
			v.addf("%s has the number %s, which is not in the evidence", where, n.text)
		}
	}
}

// maskNonFigures blanks what looks numeric but is no figure: citations,
// placeholders, links, e-mail addresses and phone numbers.
func maskNonFigures(s string) string {
	s = citationRE.ReplaceAllString(s, " ")
	s = placeholderRE.ReplaceAllString(s, " ")
	s = urlRE.ReplaceAllString(s, " ")
	s = emailRE.ReplaceAllString(s, " ")
	for _, re := range phoneREs {
		s = re.ReplaceAllString(s, " ")
	}
	return s
}

// sentences splits text into sentences: at line breaks and at sentence
// ends followed by space, unless a citation follows ("... 38%. [login_drop]").
func sentences(s string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		rs := []rune(line)
		start := 0
		for i := 0; i < len(rs); i++ {
			if !strings.ContainsRune(".!?。！？", rs[i]) {
				continue
			}
			j := i + 1
			if rs[i] < 0x3000 { // an ASCII stop ends a sentence only before a space
				if j < len(rs) && !unicode.IsSpace(rs[j]) {
					continue
				}
			}
			for j < len(rs) && unicode.IsSpace(rs[j]) {
				j++
			}
			if j < len(rs) && rs[j] == '[' {
				continue
			}
			if t := strings.TrimSpace(string(rs[start : i+1])); t != "" {
				out = append(out, t)
			}
			start = i + 1
		}
		if t := strings.TrimSpace(string(rs[start:])); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// countWords counts words the way a reader would: runs of letters and digits
// in alphabetic scripts, and each Han, Hiragana, Katakana or Hangul
// character on its own. Placeholders count as one word.
func countWords(s string) int {
	n := 0
	inWord := false
	for _, r := range s {
		switch {
		case isCJK(r):
			n++
			inWord = false
		case unicode.IsSpace(r) || (unicode.IsPunct(r) && r != '\'' && r != '-' && r != '_' && r != '{' && r != '}'):
			inWord = false
		default:
			if !inWord {
				n++
			}
			inWord = true
		}
	}
	return n
}

func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// shortenWords keeps the first n words of s (n CJK characters for CJK text).
func shortenWords(s string, n int) string {
	if n < 1 {
		n = 1
	}
	count := 0
	inWord := false
	for i, r := range s {
		starts := false
		switch {
		case isCJK(r):
			starts, inWord = true, false
		case unicode.IsSpace(r):
			inWord = false
		default:
			starts = !inWord
			inWord = true
		}
		if starts {
			if count == n {
				return strings.TrimSpace(s[:i]) + "…"
			}
			count++
		}
	}
	return s
}

// mentionsGoal reports whether text refers to the goal: it quotes it, or
// carries at least half of its content words (Latin words of four letters
// or more, CJK character pairs).
func mentionsGoal(text, goal string) bool {
	norm := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
	t, g := norm(text), strings.TrimRight(norm(goal), ".。")
	if strings.Contains(t, g) {
		return true
	}
	terms := goalTerms(g)
	if len(terms) == 0 {
		return false
	}
	hit := 0
	for _, term := range terms {
		if strings.Contains(t, term) {
			hit++
		}
	}
	return hit*2 >= len(terms)
}

func goalTerms(g string) []string {
	var terms []string
	var word []rune
	var prevCJK rune
	flush := func() {
		if len(word) >= 4 {
			terms = append(terms, string(word))
		}
		word = word[:0]
	}
	for _, r := range g {
		switch {
		case isCJK(r):
			flush()
			if prevCJK != 0 {
				terms = append(terms, string([]rune{prevCJK, r}))
			}
			prevCJK = r
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			word = append(word, r)
		default:
			flush()
		}
		prevCJK = 0
	}
	flush()
	return terms
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
