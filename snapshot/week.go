package snapshot

import "time"

// DateLayout is how dates are written in the snapshot format.
const DateLayout = "2006-01-02"

// Monday returns the Monday (UTC midnight) of the ISO 8601 week that holds
// t's calendar date. The date is read in t's own location, so a local
// Sunday evening stays in its week.
func Monday(t time.Time) time.Time {
	y, m, d := t.Date()
	days := daysFromCivil(y, int(m), d)
	return dayTime(mondayOf(days))
}

// FormatDate writes t as YYYY-MM-DD, or "" for the zero time.
func FormatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	var b [10]byte
	y, m, d := t.Date()
	put := func(i, v, n int) {
		for j := i + n - 1; j >= i; j-- {
			b[j] = byte('0' + v%10)
			v /= 10
		}
	}
	if y < 0 || y > 9999 {
		return t.Format(DateLayout)
	}
	put(0, y, 4)
	b[4] = '-'
	put(5, int(m), 2)
	b[7] = '-'
	put(8, d, 2)
	return string(b[:])
}

// ParseDate reads YYYY-MM-DD (a trailing time such as "T00:00:00Z" is
// ignored: a date is the date as written) as UTC midnight.
func ParseDate(s string) (time.Time, bool) { return parseDate(s) }

func parseDate(s string) (time.Time, bool) {
	day, ok := parseDay(s)
	if !ok {
		return time.Time{}, false
	}
	return dayTime(day), true
}

// parseDay is parseDate as days since 1970-01-01.
func parseDay(s string) (int64, bool) {
	if len(s) > 10 && (s[10] == 'T' || s[10] == ' ') {
		s = s[:10]
	}
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) || y < 1 {
		return 0, false
	}
	return daysFromCivil(y, m, d), true
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil counts days from 1970-01-01 to the proleptic Gregorian date
// (Howard Hinnant's algorithm); it avoids time.Date in the ingest hot path.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// mondayOf returns the day number of the Monday on or before day (1970-01-01
// was a Thursday).
func mondayOf(day int64) int64 {
	wd := (day + 3) % 7 // 0 = Monday
	if wd < 0 {
		wd += 7
	}
	return day - wd
}

func dayTime(day int64) time.Time { return time.Unix(day*86400, 0).UTC() }

// dayNumber is the inverse of dayTime for UTC midnights.
func dayNumber(t time.Time) int64 {
	u := t.Unix()
	if u >= 0 {
		return u / 86400
	}
	return -((-u + 86399) / 86400)
}
