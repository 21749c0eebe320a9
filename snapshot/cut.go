package snapshot

import (
	"strconv"
	"unicode/utf8"
)

// Bounds on free-text cells. A review carries an account's rows through
// Temporal (its evidence is an activity result), and Temporal refuses a
// payload over 2 MB: a 10 MB notes cell once made a review's evidence too
// large to carry, and its activity was retried forever. Free text is for a
// person to read, so a few KB say what matters; the rest is cut at read time
// with a warning naming the file, row and field.
const (
	MaxNotesBytes = 4 << 10 // notes: a CSM's paragraph or two
	MaxGoalBytes  = 1 << 10 // success_goal: one sentence
	MaxExtraBytes = 4 << 10 // any column the format does not know
)

// cutFreeText cuts the free-text cells of s that are over their bound and
// warns of each. Callers check the lengths first: on the hot path that is
// all there is.
func (rd *reader) cutFreeText(s *Snapshot) {
	rd.cutCell(s.Source, "notes", &s.Notes, MaxNotesBytes)
	rd.cutCell(s.Source, "success_goal", &s.SuccessGoal, MaxGoalBytes)
	for k, v := range s.Extra {
		if len(v) > MaxExtraBytes {
			rd.cutCell(s.Source, k, &v, MaxExtraBytes)
			s.Extra[k] = v
		}
	}
}

// overFreeText reports whether a free-text cell of s is over its bound.
func overFreeText(s *Snapshot) bool {
	return len(s.Notes) > MaxNotesBytes || len(s.SuccessGoal) > MaxGoalBytes || s.Extra != nil
}

func (rd *reader) cutCell(src Source, field string, v *string, limit int) {
	if len(*v) <= limit {
		return
	}
	from := len(*v)
	*v = CutText(*v, limit)
	rd.warn("%s row %d %s: cut from %d to %d bytes", src.File, src.Row, field, from, len(*v))
}

// CutText keeps the first limit bytes of s, or fewer so as not to split a
// character, and says how long the text was; s within limit is returned
// as is. The result is a new string:
// it does not keep the long one (or the read buffer it views) alive.
func CutText(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	n := limit
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "… [cut: " + groupThousands(len(s)) + " bytes]"
}

// groupThousands writes n with commas between groups of three digits.
func groupThousands(n int) string {
	d := strconv.Itoa(n)
	out := make([]byte, 0, len(d)+len(d)/3)
	for i := range len(d) {
		if i > 0 && (len(d)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, d[i])
	}
	return string(out)
}
