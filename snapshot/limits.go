package snapshot

import "strconv"

// Limits on what one file may hold. A snapshot comes from anyone who can
// upload one, so no input may make the reader allocate without bound: a
// file with no line break, a header with a million columns, or a megabyte
// in an account ID. Each is refused with its file and row and reading goes
// on; free-text cells (notes, success_goal, unknown columns) are instead
// cut to size (cut.go). Variables so that tests can lower them.
var (
	// maxLineBytes bounds a line, and a quoted record over several lines;
	// a longer one is rejected and skipped without being held in memory.
	maxLineBytes = 16 << 20
	// maxColumns bounds a CSV header; a file with more is refused.
	maxColumns = 512
	// maxCellBytes bounds a cell that is not free text: IDs, names,
	// numbers and dates are short, and each is kept or interned per row.
	maxCellBytes = 64 << 10
)

// lineTooLong is why a line or record over maxLineBytes was skipped.
type lineTooLong struct {
	what  string // "line" or "record"
	limit int
}

func (e lineTooLong) Error() string {
	return e.what + " longer than the " + sizeText(e.limit) + " limit, skipped"
}

// freeText reports whether f is a free-text field, which is cut to size
// rather than refused when long.
func freeText(f field) bool { return f == fNotes || f == fSuccessGoal || f == fExtra }

// cellTooLong is the reason a cell of n bytes is refused, or "" when it is
// within bounds or free text.
func cellTooLong(f field, n int) string {
	if n <= maxCellBytes || freeText(f) {
		return ""
	}
	return "cell is " + groupThousands(n) + " bytes, more than the " + sizeText(maxCellBytes) + " limit"
}

func tooManyColumns(n int) string {
	return "the header has " + strconv.Itoa(n) + " columns, more than the limit of " + strconv.Itoa(maxColumns)
}

// sizeText writes a byte count in the largest whole unit: 16 MB, 64 KB.
func sizeText(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + " MB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + " KB"
	}
	return strconv.Itoa(n) + " bytes"
}
