package snapshot

import (
	"strconv"
	"strings"
	"unicode"
)

// maxIdentBytes bounds an account_id or owner: each becomes part of a
// workflow ID (review/<account>/<week>), a search attribute and a page
// path, which have limits of their own.
const maxIdentBytes = 200

// badIdent is the reason an account_id or owner (trimmed, non-empty) cannot
// name a review, or "" when it can: it must fit a workflow ID and a page
// path, so no "/" and no control characters. Refused here, at ingest, with
// the file and row, rather than by an activity retried for ever.
func badIdent(v string) string {
	if len(v) > maxIdentBytes {
		return quote(v) + " is " + strconv.Itoa(len(v)) + " bytes, more than the " + strconv.Itoa(maxIdentBytes) + "-byte limit of an ID"
	}
	if strings.Contains(v, "/") {
		return quote(v) + ` contains "/", which cannot be part of a review's ID or page path`
	}
	if i := strings.IndexFunc(v, unicode.IsControl); i >= 0 {
		r := []rune(v[i:])[0]
		return quote(v) + " contains the control character " + strconv.QuoteRuneToASCII(r)
	}
	return ""
}

// checkIdent is badIdent, skipped for the value the field's previous row
// had (consecutive rows mostly repeat an account and its owner): strOf
// keeps only a value that passed.
func (p *rowParser) checkIdent(f field, v string) string {
	if !p.borrow && p.recent[f] == v {
		return ""
	}
	return badIdent(v)
}
