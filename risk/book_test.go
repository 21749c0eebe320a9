package risk

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/simulate"
	"github.com/churnwatch/churnwatch/snapshot"
)

// sameAssessments fails unless got and want are equal in every field, in
// the same order.
func sameAssessments(t *testing.T, what string, got, want []Assessment) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d assessments, want %d", what, len(got), len(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("%s: assessment %d differs:\n got %+v\nwant %+v", what, i, got[i], want[i])
		}
	}
}

// csvLines splits a CSV file into its header and data lines. The example
// files hold no line breaks inside quoted cells.
func csvLines(t *testing.T, path string) (string, []string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return lines[0], lines[1:]
}

func writeLines(t *testing.T, path, header string, lines []string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(header+"\n"+strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// compareTableAndRows scores the files both ways, as of each given week
// and as of three weeks before the latest.
func compareTableAndRows(t *testing.T, what string, paths []string, asOfs ...time.Time) {
	t.Helper()
	batch, err := snapshot.ReadFiles(paths)
	if err != nil {
		t.Fatal(err)
	}
	table, tb, err := snapshot.ReadTable(paths)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tb.Rejected, batch.Rejected) || !reflect.DeepEqual(tb.Warnings, batch.Warnings) {
		t.Fatalf("%s: the table read reported %v %v, the rows read %v %v", what, tb.Rejected, tb.Warnings, batch.Rejected, batch.Warnings)
	}
	m := DefaultModel()
	asOfs = append(asOfs, LatestWeek(batch.Rows).AddDate(0, 0, -21))
	for _, asOf := range asOfs {
		want := m.ScorePortfolio(batch.Rows, asOf)
		if len(want) == 0 {
			t.Fatalf("%s as of %v: nothing scored", what, asOf)
		}
		sameAssessments(t, what+" as of "+asOf.String(), m.ScoreTable(table, asOf), want)
		sameAssessments(t, what+" report as of "+asOf.String(), m.NewTableReport(table, tb, asOf).Accounts, m.NewReport(batch, asOf).Accounts)
	}
}

// TestScoreTableMatchesScorePortfolio scores the example book from a Table
// and from rows: as written, with its rows shuffled, and split over files.
func TestScoreTableMatchesScorePortfolio(t *testing.T) {
	examples := []string{"../examples/portfolio.csv", "../examples/history.csv"}
	zero := time.Time{}
	for _, path := range examples {
		compareTableAndRows(t, path, []string{path}, zero)
	}
	compareTableAndRows(t, "history, mid-way", []string{"../examples/history.csv"}, zero,
		time.Date(2026, 4, 8, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC))
	compareTableAndRows(t, "all examples", []string{"../examples/history.csv", "../examples/portfolio.csv", "../examples/bad_rows.csv", "../examples/churn.csv"}, zero)

	dir := t.TempDir()
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, path := range examples {
		header, lines := csvLines(t, path)
		rnd.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
		shuffled := filepath.Join(dir, "shuffled-"+filepath.Base(path))
		writeLines(t, shuffled, header, lines)
		compareTableAndRows(t, "shuffled "+path, []string{shuffled}, zero)

		// Split in three, each file a third of the (shuffled) rows.
		var parts []string
		for k := range 3 {
			var part []string
			for i := k; i < len(lines); i += 3 {
				part = append(part, lines[i])
			}
			p := filepath.Join(dir, "part"+strconv.Itoa(k)+"-"+filepath.Base(path))
			writeLines(t, p, header, part)
			parts = append(parts, p)
		}
		compareTableAndRows(t, "split "+path, parts, zero)
	}
}

// languageBook is a book of 3000 accounts x 16 weeks in many languages:
// most accounts speak one of four, the rest one of forty, so that the cap
// on groups is reached; the "fr" accounts all dip in weeks 13 to 15 (their
// August).
func languageBook(t *testing.T) []snapshot.Snapshot {
	t.Helper()
	var buf bytes.Buffer
	if err := simulate.WriteBenchmarkBook(&buf, 3000, 16); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for i, line := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
		if i == 0 {
			out.WriteString(line + ",language\n")
			continue
		}
		acct := (i - 1) / 16
		wk := (i - 1) % 16
		lang := []string{"en", "de", "fr", "ja"}[acct%4]
		if acct%5 == 0 {
			lang = "x" + strconv.Itoa(acct%40)
		}
		if lang == "fr" && wk >= 13 {
			cells := strings.Split(line, ",")
			if n, err := strconv.Atoi(cells[6]); err == nil {
				cells[6] = strconv.Itoa(n * 6 / 10)
			}
			line = strings.Join(cells, ",")
		}
		out.WriteString(line + "," + lang + "\n")
	}
	batch, err := snapshot.Read(&out, "langs.csv")
	if err != nil || len(batch.Rejected) > 0 {
		t.Fatalf("%v %v", err, batch.Rejected)
	}
	return batch.Rows
}

// TestPeerPassDoesNotDependOnWorkers scores a book of many languages, some
// with a common dip, on one worker and on several: the language groups
// (the first maxPeerLanguages, in account order) and their medians must
// come out the same, and so must every assessment.
func TestPeerPassDoesNotDependOnWorkers(t *testing.T) {
	rows := languageBook(t)
	m := DefaultModel()
	asOf := LatestWeek(rows)
	b := sliceBook(rows)

	prev := runtime.GOMAXPROCS(1)
	onePeers := m.buildPeerFactors(b, asOf)
	one := m.ScorePortfolio(rows, time.Time{})
	runtime.GOMAXPROCS(4)
	manyPeers := m.buildPeerFactors(b, asOf)
	many := m.ScorePortfolio(rows, time.Time{})
	runtime.GOMAXPROCS(prev)

	if !reflect.DeepEqual(onePeers, manyPeers) {
		t.Fatalf("peer factors differ: one worker %v, several %v", onePeers.groups, manyPeers.groups)
	}
	if len(onePeers.groups) < 5 {
		t.Fatalf("only %d peer groups: %v", len(onePeers.groups), onePeers.groups)
	}
	if f := onePeers.levels("fr")[0][0]; f >= 1 {
		t.Fatalf("the fr accounts' common dip was not measured: factor %v", f)
	}
	sameAssessments(t, "one worker against several", many, one)
}

// TestScoreInPartsWithBookPeers scores a book in parts, as a scan does,
// each part against the peer levels measured over the whole book (carried
// as JSON, as between activities): every account must score as it does in
// the whole book. Parts scored alone must not, or the test proves nothing:
// a part holds too few "fr" accounts to see their common dip.
func TestScoreInPartsWithBookPeers(t *testing.T) {
	rows := languageBook(t)
	m := DefaultModel()
	asOf := LatestWeek(rows)
	whole := map[string]Assessment{}
	for _, a := range m.ScorePortfolio(rows, asOf) {
		a.Priority = 0 // a rank within what was scored together
		whole[a.AccountID] = a
	}

	var parts [][]snapshot.Snapshot
	const perPart = 60 * 16 // 60 accounts, 15 of them "fr"
	for lo := 0; lo < len(rows); lo += perPart {
		parts = append(parts, rows[lo:min(lo+perPart, len(rows))])
	}
	counter := m.NewPeerCounter(asOf)
	for _, p := range parts {
		counter.Add(p)
	}
	data, err := json.Marshal(counter.Levels())
	if err != nil {
		t.Fatal(err)
	}
	var raw peersJSON
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	for g, slots := range raw.Levels {
		if len(slots) > m.Windows.RecentWeeks+m.Windows.BaselineWeeks {
			t.Fatalf("group %d carries %d weeks: the normal ones past the trend window must be left out", g, len(slots))
		}
	}
	var levels PeerLevels
	if err := json.Unmarshal(data, &levels); err != nil {
		t.Fatalf("%v in %s", err, data)
	}
	if want := m.buildPeerFactors(sliceBook(rows), asOf); !reflect.DeepEqual(levels.f, want) {
		t.Fatalf("levels counted in parts, through JSON:\n%+v\nmeasured over the book:\n%+v", levels.f, want)
	}

	alone, scored := 0, 0
	for _, p := range parts {
		got, err := m.ScoreWithPeers(p, asOf, levels)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range got {
			a.Priority = 0
			if !reflect.DeepEqual(a, whole[a.AccountID]) {
				t.Fatalf("%s scored in its part:\n%+v\nin the whole book:\n%+v", a.AccountID, a, whole[a.AccountID])
			}
			scored++
		}
		for _, a := range m.ScorePortfolio(p, asOf) {
			if a.Score != whole[a.AccountID].Score {
				alone++
			}
		}
	}
	if scored != len(whole) {
		t.Fatalf("%d accounts scored in parts, %d in the whole book", scored, len(whole))
	}
	if alone == 0 {
		t.Fatal("every part scored alone matched the whole book: the book does not exercise its peers")
	}
	if _, err := m.ScoreWithPeers(parts[0], asOf.AddDate(0, 0, -7), levels); err == nil {
		t.Fatal("peers measured for one week were used for another")
	}
}

// TestScoreAsOfReadsNoLaterRow scores a book as of a past week from all
// its rows, and from only the rows up to that week, as a backtest replay
// and a rescore with --as-of do: later rows, here a language that changes
// afterwards (which would move accounts between peer groups), must not
// change a thing.
func TestScoreAsOfReadsNoLaterRow(t *testing.T) {
	rows := languageBook(t)
	asOf := rows[13].Week // the second "fr" dip week
	for i := range rows {
		if rows[i].Week.After(asOf) && i%3 == 0 {
			rows[i].Language = "later"
		}
	}
	var upTo []snapshot.Snapshot
	for _, r := range rows {
		if !r.Week.After(asOf) {
			upTo = append(upTo, r)
		}
	}
	m := DefaultModel()
	want := m.ScorePortfolio(upTo, asOf)
	sameAssessments(t, "rows", m.ScorePortfolio(rows, asOf), want)
	sameAssessments(t, "table", m.ScoreTable(snapshot.TableOf(rows), asOf), want)
}

// TestWriteJSONMatchesEncoder writes reports, a book's and an empty one,
// both ways: the streamed JSON must hold exactly what encoding/json writes
// (compacted, byte for byte), with each account on a line of its own.
func TestWriteJSONMatchesEncoder(t *testing.T) {
	batch, err := snapshot.ReadFiles([]string{"../examples/portfolio.csv", "../examples/bad_rows.csv"})
	if err != nil {
		t.Fatal(err)
	}
	m := DefaultModel()
	for _, r := range []Report{m.NewReport(batch, time.Time{}), m.NewReport(snapshot.Batch{}, time.Time{}), {}} {
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var out, got bytes.Buffer
		if err := r.WriteJSON(&out); err != nil {
			t.Fatal(err)
		}
		if err := json.Compact(&got, out.Bytes()); err != nil {
			t.Fatalf("streamed JSON is not JSON: %v", err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("streamed JSON differs from encoding/json:\n%s\nwant:\n%s", got.Bytes()[:min(2000, got.Len())], want[:min(2000, len(want))])
		}
		for _, a := range r.Accounts {
			if !bytes.Contains(out.Bytes(), []byte("\n    {\"account_id\":\""+a.AccountID+"\",")) {
				t.Fatalf("account %s does not start a line of its own:\n%s", a.AccountID, out.Bytes()[:min(2000, out.Len())])
			}
		}
	}
}
