package source_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/churnwatch/churnwatch/snapshot"
	"github.com/churnwatch/churnwatch/source"
)

// testDB connects to the test PostgreSQL and gives a schema of the test's
// own, dropped when it ends. It skips only when no server is configured.
func testDB(t *testing.T) (dsn string, conn *pgx.Conn, schema string) {
	t.Helper()
	dsn = os.Getenv("CHURNWATCH_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("CHURNWATCH_TEST_POSTGRES_DSN is not set (source /work/main/.churnwatch/test-env)")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema = fmt.Sprintf("cw_source_%d_%d", os.Getpid(), time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema+"; SET search_path TO "+schema+"; SET TimeZone TO 'UTC'"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
		conn.Close(ctx)
	})
	return dsn, conn, schema
}

// typed are the warehouse types of the snapshot columns; a column not
// listed is text.
var typed = map[string]string{
	"week": "date", "arr": "numeric(14,2)", "renewal_date": "date",
	"logins": "integer", "active_users": "integer", "licensed_seats": "integer",
	"dau_mau": "double precision", "feature_adoption": "real",
	"open_tickets": "integer", "critical_open_tickets": "integer", "oldest_open_ticket_days": "integer",
	"escalations": "integer", "integration_errors": "integer", "users_deactivated": "integer",
	"champion_departed": "boolean", "last_exec_contact": "date", "last_csm_meeting": "timestamptz",
	"nps": "integer", "overdue_invoice_days": "integer", "downgrade_requested": "boolean", "strategic": "boolean",
}

// loadCSV creates table from a CSV file's header (typed columns, or all
// text) and copies the file in, an empty cell as NULL. It returns the
// query that gives the rows back in the file's order.
func loadCSV(t *testing.T, conn *pgx.Conn, table string, csv []byte, withTypes bool) string {
	t.Helper()
	ctx := context.Background()
	header := strings.Split(strings.TrimSpace(string(csv[:bytes.IndexByte(csv, '\n')])), ",")
	cols := []string{"line bigserial"}
	for _, h := range header {
		typ := "text"
		if withTypes && typed[h] != "" {
			typ = typed[h]
		}
		cols = append(cols, h+" "+typ)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE "+table+" ("+strings.Join(cols, ", ")+")"); err != nil {
		t.Fatal(err)
	}
	list := strings.Join(header, ", ")
	if _, err := conn.PgConn().CopyFrom(ctx, bytes.NewReader(csv), "COPY "+table+" ("+list+") FROM STDIN WITH (FORMAT csv, HEADER true)"); err != nil {
		t.Fatalf("copy into %s: %v", table, err)
	}
	return "SELECT " + list + " FROM " + table + " ORDER BY line"
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// renamed is a batch read from a file as if the file were called name.
func renamed(b snapshot.Batch, file, name string) snapshot.Batch {
	for i := range b.Rows {
		b.Rows[i].Source.File = name
	}
	for i := range b.Rejected {
		b.Rejected[i].File = name
		b.Rejected[i].Reason = strings.ReplaceAll(b.Rejected[i].Reason, file, name)
	}
	for i := range b.Warnings {
		b.Warnings[i] = strings.ReplaceAll(b.Warnings[i], file, name)
	}
	return b
}

func newQuery(t *testing.T, dsn, sql string) *source.Query {
	t.Helper()
	q, err := source.New(dsn, sql)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// TestSourceReadsAsTheFileReads: the rows of a table read through the
// source are those of the CSV file it was loaded from, and so are the
// refusals (file aside), row numbers included.
func TestSourceReadsAsTheFileReads(t *testing.T) {
	dsn, conn, schema := testDB(t)
	// The bad rows, with a column the format does not know and a note
	// that needs quoting, staged as text as a raw import would be.
	bad := readFile(t, "../examples/bad_rows.csv")
	var b strings.Builder
	for i, line := range strings.Split(strings.TrimSpace(string(bad)), "\n") {
		switch i {
		case 0:
			line += ",segment,notes"
		case 2:
			line += `,smb,"said ""no"", then
yes"`
		default:
			line += ",smb,"
		}
		b.WriteString(line + "\n")
	}
	for i, c := range []struct {
		name  string
		csv   []byte
		typed bool
	}{
		{"bad rows as text", []byte(b.String()), false},
		{"the sample book, typed", readFile(t, "../examples/portfolio.csv"), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := t.TempDir() + "/input.csv"
			if err := os.WriteFile(file, c.csv, 0o644); err != nil {
				t.Fatal(err)
			}
			fromFile, err := snapshot.ReadFiles([]string{file})
			if err != nil {
				t.Fatal(err)
			}
			table := fmt.Sprintf("%s.t%d", schema, i)
			q := newQuery(t, dsn, loadCSV(t, conn, table, c.csv, c.typed))
			got, sum, err := q.Read(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			want := renamed(fromFile, file, q.Name())
			if !regexp.MustCompile(`^source:[A-Za-z0-9_-]+$`).MatchString(q.Name()) {
				t.Errorf("the source is named %q", q.Name())
			}
			if len(want.Rows) == 0 {
				t.Fatal("the file has no valid row")
			}
			if !reflect.DeepEqual(got.Rows, want.Rows) {
				for i := range min(len(got.Rows), len(want.Rows)) {
					if !reflect.DeepEqual(got.Rows[i], want.Rows[i]) {
						t.Fatalf("row %d:\nsource %+v\nfile   %+v", i, got.Rows[i], want.Rows[i])
					}
				}
				t.Fatalf("the source gave %d rows, the file %d", len(got.Rows), len(want.Rows))
			}
			if !reflect.DeepEqual(got.Rejected, want.Rejected) {
				t.Errorf("refusals differ:\nsource %v\nfile   %v", got.Rejected, want.Rejected)
			}
			if !reflect.DeepEqual(got.Warnings, want.Warnings) {
				t.Errorf("warnings differ:\nsource %q\nfile   %q", got.Warnings, want.Warnings)
			}
			if len(sum) != 32 {
				t.Errorf("sum of %d bytes", len(sum))
			}
		})
	}
}

// TestWriteCSVWritesAsAnExport: each type reaches the reader as a CSV
// export writes it.
func TestWriteCSVWritesAsAnExport(t *testing.T) {
	dsn, _, _ := testDB(t)
	q := newQuery(t, dsn, `SELECT 'A-1'::text AS account_id, 'Acme, Inc.' AS account_name,
		date '2026-11-18' AS week, timestamptz '2026-11-18 23:30:00-08' AS renewal_date,
		timestamp '2026-11-19 13:45:00' AS last_csm_meeting, 120000.50::numeric(12,2) AS arr,
		1e20::float8 AS big, 0.00001::float8 AS dau_mau, 0.25::real AS feature_adoption,
		true AS strategic, false AS champion_departed, NULL::int AS nps, 0::int AS logins,
		'' AS notes, 'say "hi"' AS "odd ""name"""`)
	var out bytes.Buffer
	n, err := q.WriteCSV(context.Background(), &out)
	if err != nil {
		t.Fatal(err)
	}
	want := `"account_id","account_name","week","renewal_date","last_csm_meeting","arr","big","dau_mau","feature_adoption","strategic","champion_departed","nps","logins","notes","odd ""name"""` + "\n" +
		`A-1,"Acme, Inc.",2026-11-18,2026-11-19,2026-11-19,120000.50,100000000000000000000,0.00001,0.25,true,false,,0,,"say ""hi"""` + "\n"
	if n != 1 || out.String() != want {
		t.Fatalf("wrote %d rows:\n%s\nwant\n%s", n, out.String(), want)
	}
}

// TestNullIsUnknown: NULL reads as unknown, never as zero or false; a
// stored zero is a known zero.
func TestNullIsUnknown(t *testing.T) {
	dsn, _, _ := testDB(t)
	q := newQuery(t, dsn, `SELECT * FROM (VALUES
		('A-1', 'Acme', date '2026-11-16', 'dana', 1000, NULL::int, NULL::int, NULL::float8, NULL::boolean, NULL::date),
		('A-2', 'Bolt', date '2026-11-16', 'dana', 1000, 0, 0, 0::float8, false, date '2026-12-01'))
		AS v(account_id, account_name, week, owner, arr, logins, nps, dau_mau, champion_departed, renewal_date)`)
	b, _, err := q.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Rows) != 2 || len(b.Rejected) != 0 {
		t.Fatalf("rows %d, rejected %v", len(b.Rows), b.Rejected)
	}
	null, zero := b.Rows[0], b.Rows[1]
	if null.Logins.Known || null.NPS.Known || null.DAUMAU.Known || null.ChampionDeparted.Known || null.RenewalDate.Known {
		t.Errorf("a NULL was read as known: %+v", null)
	}
	if !zero.Logins.Known || !zero.NPS.Known || !zero.DAUMAU.Known || !zero.ChampionDeparted.Known || !zero.RenewalDate.Known {
		t.Errorf("a stored zero was read as unknown: %+v", zero)
	}
}

// TestRefusedQueryNamesTheKey: a query the warehouse refuses, or one that
// writes, is an error naming source.query; a refused connection names
// source.dsn and may be retried.
func TestRefusedQueryNamesTheKey(t *testing.T) {
	dsn, _, schema := testDB(t)
	for _, sql := range []string{
		"SELECT * FROM " + schema + ".cw_no_such_table",
		"SELEC 1",
		"CREATE TABLE " + schema + ".cw_written (x int)",
	} {
		_, _, err := newQuery(t, dsn, sql).Read(context.Background())
		if err == nil || !strings.HasPrefix(err.Error(), "source.query: ") || !source.Refused(err) {
			t.Errorf("%s: err %v (refused %v)", sql, err, source.Refused(err))
		}
	}
	if _, _, err := newQuery(t, dsn, "SELECT * FROM "+schema+".cw_no_such_table").Read(context.Background()); err == nil || !strings.Contains(err.Error(), "cw_no_such_table") {
		t.Errorf("the error does not carry PostgreSQL's message: %v", err)
	}
	if _, err := source.New(dsn, " "); err == nil || !strings.Contains(err.Error(), "source.query") {
		t.Errorf("an empty query: %v", err)
	}
	closed := regexp.MustCompile(`@[^/]+/`).ReplaceAllString(dsn, "@127.0.0.1:1/")
	_, _, err := newQuery(t, closed, "SELECT 1").Read(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), "source.dsn: ") || source.Refused(err) {
		t.Errorf("a closed port: %v (refused %v)", err, source.Refused(err))
	}
}

// cancelAfter cancels its context once it has been given n bytes.
type cancelAfter struct {
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	if c.n -= len(p); c.n <= 0 {
		c.cancel()
	}
	return len(p), nil
}

// TestCancelStopsTheQuery: cancelling the context stops the query in the
// warehouse, not only the reading of it.
func TestCancelStopsTheQuery(t *testing.T) {
	dsn, conn, _ := testDB(t)
	tag := fmt.Sprintf("cw-cancel-%d", time.Now().UnixNano())
	// A set-returning function gives no row before it has made them all:
	// the cross join of two small ones streams from the first row.
	const total = 50_000_000
	q := newQuery(t, dsn, fmt.Sprintf(`SELECT /* %s */ 'A-' || g AS account_id, 'name' AS account_name,
		date '2026-11-16' AS week, 'dana' AS owner, h AS arr
		FROM generate_series(1, %d) g, generate_series(1, 1000) h`, tag, total/1000))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n, err := q.WriteCSV(ctx, &cancelAfter{n: 256 << 10, cancel: cancel})
	if !errors.Is(err, context.Canceled) || n >= total {
		t.Fatalf("wrote %d rows, err %v", n, err)
	}
	// Read stops as well, with the query's error.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, _, err := q.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("read under a cancelled context: %v", err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		var running int
		err := conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE state = 'active' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()`, tag).Scan(&running)
		if err != nil {
			t.Fatal(err)
		}
		if running == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the query still runs in the warehouse after the context was cancelled")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestJoinRefusesTheSourcesRepeat: a week the files already gave is
// refused from the source, with the reader's words, in row order.
func TestJoinRefusesTheSourcesRepeat(t *testing.T) {
	files, err := snapshot.Read(strings.NewReader("account_id,account_name,week,owner,arr\nA-1,Acme,2026-11-16,dana,10\n"), "inbox/week47.csv")
	if err != nil {
		t.Fatal(err)
	}
	src, err := snapshot.Read(strings.NewReader("account_id,account_name,week,owner,arr\nA-2,Bolt,2026-11-16,dana,\nA-1,Acme,2026-11-18,dana,10\nA-3,Cask,2026-11-16,li,5\nA-4,Dune,x,li,5\n"), "source:wh")
	if err != nil {
		t.Fatal(err)
	}
	got := source.Join(files, src)
	var ids []string
	for _, r := range got.Rows {
		ids = append(ids, r.AccountID)
	}
	if strings.Join(ids, " ") != "A-1 A-3" {
		t.Errorf("rows %v", ids)
	}
	want := []snapshot.Rejection{
		{File: "source:wh", Row: 2, Field: "arr", Reason: "required field is empty"},
		{File: "source:wh", Row: 3, Field: "week", Reason: `account "A-1" week 2026-11-16 was already given in inbox/week47.csv row 2`},
		{File: "source:wh", Row: 5, Field: "week", Reason: `"x" is not a date (YYYY-MM-DD)`},
	}
	if !reflect.DeepEqual(got.Rejected, want) {
		t.Errorf("rejected\n%v\nwant\n%v", got.Rejected, want)
	}
}

// TestExampleView creates the warehouse tables and the view of
// docs/source.md and reads the view through the source.
func TestExampleView(t *testing.T) {
	dsn, conn, schema := testDB(t)
	ctx := context.Background()
	doc := string(readFile(t, "../docs/source.md"))
	blocks := regexp.MustCompile("(?s)```sql\n(.*?)```").FindAllStringSubmatch(doc, -1)
	if len(blocks) != 2 {
		t.Fatalf("docs/source.md has %d sql blocks, want the tables and the view", len(blocks))
	}
	for _, b := range blocks {
		if _, err := conn.Exec(ctx, b[1]); err != nil {
			t.Fatalf("%v in\n%s", err, b[1])
		}
	}
	_, err := conn.Exec(ctx, `
		INSERT INTO accounts VALUES
			('A-1', 'Acme', 'dana@example.com', 8400000, '2027-01-22', true, 'en'),
			('A-2', 'Bolt', 'li.wei@example.com', 1200050, NULL, NULL, NULL);
		INSERT INTO weekly_usage VALUES
			('A-1', '2026-11-09', 120, 30, 40, 0.41, 62.5),
			('A-1', '2026-11-16', 80, 22, 40, 0.3, 60),
			('A-2', '2026-11-16', 10, 3, NULL, NULL, NULL);
		INSERT INTO tickets VALUES
			(1, 'A-1', 'urgent', '2026-11-02 10:00Z', NULL, '2026-11-17 09:00Z'),
			(2, 'A-1', 'normal', '2026-11-10 10:00Z', '2026-11-12 10:00Z', NULL),
			(3, 'A-1', 'normal', '2026-11-18 10:00Z', NULL, NULL);
		INSERT INTO nps_responses VALUES
			('A-1', '2026-11-10 12:00Z', 9), ('A-1', '2026-11-18 12:00Z', 4), ('A-1', '2026-11-19 12:00Z', 3);`)
	if err != nil {
		t.Fatal(err)
	}
	q := newQuery(t, dsn, "SELECT * FROM "+schema+".churnwatch_snapshots ORDER BY account_id, week")
	b, _, err := q.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Rows) != 3 || len(b.Rejected) != 0 || len(b.Warnings) != 0 {
		t.Fatalf("rows %d, rejected %v, warnings %v", len(b.Rows), b.Rejected, b.Warnings)
	}
	type row struct {
		Week, Owner                                     string
		ARR                                             float64
		Open, Critical, Oldest, Escalations, NPS, Seats snapshot.Opt[int]
		Adoption                                        snapshot.Opt[float64]
		Strategic                                       snapshot.Opt[bool]
		Row                                             int
	}
	var got []row
	for _, r := range b.Rows {
		got = append(got, row{snapshot.FormatDate(r.Week), r.Owner, r.ARR, r.OpenTickets, r.CriticalOpenTickets,
			r.OldestOpenTicketDays, r.Escalations, r.NPS, r.LicensedSeats, r.FeatureAdoption, r.Strategic, r.Source.Row})
	}
	some, none := snapshot.Some[int], snapshot.Opt[int]{}
	want := []row{
		// Week of 11-09: tickets 1 and 2 opened, 2 closed on the 12th; the
		// answer of the 10th.
		{"2026-11-09", "dana", 84000, some(1), some(1), some(14), some(0), some(9), some(40), snapshot.Some(0.625), snapshot.Some(true), 2},
		// Week of 11-16: 1 (escalated the 17th) and 3 open; the last answer.
		{"2026-11-16", "dana", 84000, some(2), some(1), some(21), some(1), some(3), some(40), snapshot.Some(0.6), snapshot.Some(true), 3},
		// No ticket: zero open, a fact; no answer: unknown.
		{"2026-11-16", "li.wei", 12000.5, some(0), some(0), some(0), some(0), none, none, snapshot.Opt[float64]{}, snapshot.Opt[bool]{}, 4},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the view read\n%+v\nwant\n%+v", got, want)
	}
}
