package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/snapshot"
)

// postgresDSNEnv names the PostgreSQL the tests use; CI sets it (see
// .ci/postgres.sh). Without it the PostgreSQL tests skip.
const postgresDSNEnv = "CHURNWATCH_TEST_POSTGRES_DSN"

func TestSQLite(t *testing.T) {
	testStore(t, func(t *testing.T) (string, string) { return "", t.TempDir() })
}

func TestPostgres(t *testing.T) {
	if os.Getenv(postgresDSNEnv) == "" {
		t.Skipf("PostgreSQL tests skipped: set %s=postgres://... (eval \"$(bash .ci/postgres.sh)\" starts one)", postgresDSNEnv)
	}
	testStore(t, func(t *testing.T) (string, string) { return postgresLocation(t) })
}

// postgresLocation gives each test a fresh schema in the test database, so
// tests never see each other's rows, and drops it afterwards.
func postgresLocation(t testing.TB) (dsn, dataDir string) {
	base := os.Getenv(postgresDSNEnv)
	if base == "" {
		t.Skipf("PostgreSQL tests skipped: set %s=postgres://... (eval \"$(bash .ci/postgres.sh)\" starts one)", postgresDSNEnv)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	schema := fmt.Sprintf("t_%d_%d", time.Now().UnixNano(), os.Getpid())
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			t.Error(err)
			return
		}
		defer db.Close()
		if _, err := db.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema, ""
}

func mustOpen(t *testing.T, dsn, dir string) Store {
	t.Helper()
	st, err := Open(context.Background(), dsn, dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

var (
	week1 = "2026-11-02"
	week2 = "2026-11-09"
	week3 = "2026-11-16"
	t0    = time.Date(2026, 11, 17, 9, 30, 0, 123456000, time.UTC) // microsecond precision, as stored
)

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func snap(account, week string, row int) snapshot.Snapshot {
	return snapshot.Snapshot{
		AccountID:   account,
		AccountName: "Name " + account,
		Week:        day(week),
		Owner:       "dana",
		ARR:         120000,
		RenewalDate: snapshot.Some(day("2027-03-01")),
		Logins:      snapshot.Some(74),
		NPS:         snapshot.Opt[int]{}, // unknown stays unknown
		SuccessGoal: "cut close time",
		Extra:       map[string]string{"region": "emea"},
		Source:      snapshot.Source{File: "weekly.csv", Row: row},
	}
}

func assessment(account, week string, score int, tier risk.Tier, hash string) risk.Assessment {
	return risk.Assessment{
		AccountID:   account,
		AccountName: "Name " + account,
		Owner:       "dana",
		AsOf:        week,
		Score:       score,
		Tier:        tier,
		ARR:         50000,
		Signals: []risk.Signal{{
			ID: "login_drop", Dimension: "usage", Points: 12,
			Text:     "Logins fell 38% over 3 weeks (120/wk to 74/wk)",
			Evidence: risk.Evidence{Field: "logins", Weeks: []string{week1, week}, Values: []float64{120, 74}},
		}},
		Missing:      []string{"nps"},
		ModelVersion: "v1",
		ConfigHash:   hash,
		ScoredAt:     t0,
	}
}

// testStore runs the shared suite. location returns where a store lives
// (a dsn, or a data dir for SQLite); the suite opens, closes and reopens it.
func testStore(t *testing.T, location func(t *testing.T) (dsn, dataDir string)) {
	ctx := context.Background()

	t.Run("BatchIsImmutableAndIdempotent", func(t *testing.T) {
		dsn, dir := location(t)
		st := mustOpen(t, dsn, dir)
		rows := []snapshot.Snapshot{snap("A-1", week1, 2), snap("A-1", week2, 3), snap("A-2", week1, 4)}
		b := Batch{ID: "batch-1", SourceFiles: []string{"weekly.csv"}, IngestedAt: t0}
		if err := st.SaveBatch(ctx, b, rows); err != nil {
			t.Fatal(err)
		}
		// A retry, even one carrying different rows, writes nothing.
		if err := st.SaveBatch(ctx, b, rows[:1]); err != nil {
			t.Fatal(err)
		}
		if err := st.SaveBatch(ctx, b, rows); err != nil {
			t.Fatal(err)
		}
		got, err := st.BatchRows(ctx, "batch-1")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, rows) {
			t.Fatalf("BatchRows = %+v\nwant %+v", got, rows)
		}
		if _, err := st.BatchRows(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("BatchRows(unknown) error = %v, want ErrNotFound", err)
		}
		if err := st.SaveBatch(ctx, Batch{}, rows); err == nil {
			t.Error("SaveBatch with no ID succeeded")
		}
	})

	t.Run("History", func(t *testing.T) {
		dsn, dir := location(t)
		st := mustOpen(t, dsn, dir)
		old := []snapshot.Snapshot{snap("A-1", week1, 2), snap("A-1", week2, 3), snap("A-2", week1, 4), snap("A-3", week1, 5)}
		if err := st.SaveBatch(ctx, Batch{ID: "old", IngestedAt: t0}, old); err != nil {
			t.Fatal(err)
		}
		// A later batch restates A-1's second week and adds its third.
		fixed := snap("A-1", week2, 2)
		fixed.Logins = snapshot.Some(80)
		fixed.Source.File = "fixed.csv"
		newer := []snapshot.Snapshot{fixed, snap("A-1", week3, 3)}
		if err := st.SaveBatch(ctx, Batch{ID: "new", IngestedAt: t0.Add(time.Hour)}, newer); err != nil {
			t.Fatal(err)
		}
		got, err := st.History(ctx, []string{"A-2", "A-1"}, week2)
		if err != nil {
			t.Fatal(err)
		}
		want := []snapshot.Snapshot{old[0], fixed, old[2]}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("History = %+v\nwant %+v", got, want)
		}
		all, err := st.History(ctx, nil, week3)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 5 || all[2].Week != day(week3) || all[4].AccountID != "A-3" {
			t.Fatalf("History(all) = %+v", all)
		}

		// A scan's chunks by their bounds: only the batch's accounts, only
		// up to the scored week, after (exclusive) to last (inclusive).
		for _, c := range []struct {
			batch, through, after, last string
			want                        []string
		}{
			{"old", week3, "", "A-3", []string{"A-1", "A-2", "A-3"}},
			{"old", week3, "A-1", "A-2", []string{"A-2"}},
			{"old", week3, "A-3", "A-9", nil},
			{"new", week3, "", "A-9", []string{"A-1"}},
			{"new", week1, "", "A-9", nil}, // its rows are for weeks 2 and 3
		} {
			got, err := st.BatchAccounts(ctx, c.batch, c.through, c.after, c.last)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("BatchAccounts(%s, %s, %q, %q) = %v, want %v", c.batch, c.through, c.after, c.last, got, c.want)
			}
		}
	})

	t.Run("BatchLargerThanOneStatement", func(t *testing.T) {
		dsn, dir := location(t)
		st := mustOpen(t, dsn, dir)
		var rows []snapshot.Snapshot
		for i := range 1234 {
			rows = append(rows, snap("A-"+strconv.Itoa(i), week1, i+2))
		}
		if err := st.SaveBatch(ctx, Batch{ID: "big"}, rows); err != nil {
			t.Fatal(err)
		}
		got, err := st.BatchRows(ctx, "big")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(rows) || got[1233].AccountID != "A-1233" || got[1233].Source.Row != 1235 {
			t.Fatalf("got %d rows, last %+v", len(got), got[len(got)-1].Source)
		}
	})

	t.Run("Scores", func(t *testing.T) {
		dsn, dir := location(t)
		st := mustOpen(t, dsn, dir)
		first := []risk.Assessment{
			assessment("A-1", week1, 40, risk.Watch, "h1"),
			assessment("A-2", week1, 70, risk.Elevated, "h1"),
			assessment("A-3", week1, 10, risk.Healthy, "h1"), // not scored again later
		}
		second := []risk.Assessment{
			assessment("A-1", week2, 85, risk.Critical, "h1"),
			assessment("A-2", week2, 72, risk.Elevated, "h1"),
		}
		for range 2 { // the second round is a retried activity
			if err := st.SaveScores(ctx, "b1", first); err != nil {
				t.Fatal(err)
			}
			if err := st.SaveScores(ctx, "b2", second); err != nil {
				t.Fatal(err)
			}
		}
		got, err := st.ScoresAsOf(ctx, week2)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, second) {
			t.Fatalf("ScoresAsOf(%s) = %+v\nwant %+v", week2, got, second)
		}

		// A rescore under a new configuration is kept beside the old one and
		// becomes the week's score.
		rescored := assessment("A-2", week2, 55, risk.Watch, "h2")
		rescored.ModelVersion = "v2"
		if err := st.SaveScores(ctx, "b3", []risk.Assessment{rescored}); err != nil {
			t.Fatal(err)
		}
		got, err = st.ScoresAsOf(ctx, week2)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[1].ConfigHash != "h2" || got[1].ModelVersion != "v2" || got[1].Score != 55 {
			t.Fatalf("after rescore ScoresAsOf = %+v", got)
		}

		heads, err := st.ScoreRows(ctx, week2)
		if err != nil {
			t.Fatal(err)
		}
		wantHeads := []ScoreRow{{"A-1", "dana", risk.Critical, 85, 50000}, {"A-2", "dana", risk.Watch, 55, 50000}}
		if !reflect.DeepEqual(heads, wantHeads) {
			t.Fatalf("ScoreRows(%s) = %+v, want %+v", week2, heads, wantHeads)
		}
		one, err := st.ScoresAsOf(ctx, week2, "A-2", "A-9")
		if err != nil {
			t.Fatal(err)
		}
		if len(one) != 1 || one[0].AccountID != "A-2" || one[0].ConfigHash != "h2" {
			t.Fatalf("ScoresAsOf(%s, A-2, A-9) = %+v", week2, one)
		}

		prev, err := st.LatestScores(ctx, week2)
		if err != nil {
			t.Fatal(err)
		}
		if len(prev) != 3 || prev["A-1"].Tier != risk.Watch || prev["A-2"].AsOf != week1 || prev["A-3"].Score != 10 {
			t.Fatalf("LatestScores(%s) = %+v", week2, prev)
		}
		latest, err := st.LatestScores(ctx, week3)
		if err != nil {
			t.Fatal(err)
		}
		if len(latest) != 3 || latest["A-1"].Tier != risk.Critical || latest["A-2"].ConfigHash != "h2" || latest["A-3"].AsOf != week1 {
			t.Fatalf("LatestScores(%s) = %+v", week3, latest)
		}
		some, err := st.LatestScores(ctx, week3, "A-3", "A-2", "A-9")
		if err != nil {
			t.Fatal(err)
		}
		if len(some) != 2 || some["A-2"].ConfigHash != "h2" || some["A-3"].AsOf != week1 {
			t.Fatalf("LatestScores(%s, A-3, A-2, A-9) = %+v", week3, some)
		}
		none, err := st.LatestScores(ctx, week1)
		if err != nil || len(none) != 0 {
			t.Fatalf("LatestScores(%s) = %v, %v; want empty", week1, none, err)
		}

		weeks, err := st.Weeks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(weeks, []string{week1, week2}) {
			t.Fatalf("Weeks = %v", weeks)
		}
	})

	t.Run("Packets", func(t *testing.T) {
		dsn, dir := location(t)
		st := mustOpen(t, dsn, dir)
		p := review.Packet{
			ReviewID: review.ID("A-1", week2), AccountID: "A-1", AccountName: "Northwind", Owner: "dana",
			Cycle: week2, State: review.AwaitingApproval, Event: "crossed into critical", Severity: risk.Critical,
			Assessment: assessment("A-1", week2, 85, risk.Critical, "h1"),
			Escalation: review.Escalation{Path: []string{"dana", "lee"}},
			CreatedAt:  t0, UpdatedAt: t0,
		}
		p.Assessment.ScoredAt = time.Time{} // not part of the packet's JSON
		if err := st.SavePacket(ctx, p); err != nil {
			t.Fatal(err)
		}
		got, err := st.Packet(ctx, p.ReviewID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, p) {
			t.Fatalf("Packet = %+v\nwant %+v", got, p)
		}

		newer := p
		newer.State = review.Approved
		newer.Decision = &review.Decision{Kind: review.Approve, Actor: "dana", At: t0.Add(time.Hour)}
		newer.UpdatedAt = t0.Add(time.Hour)
		if err := st.SavePacket(ctx, newer); err != nil {
			t.Fatal(err)
		}
		// A late retry of the first write must not undo the approval.
		if err := st.SavePacket(ctx, p); err != nil {
			t.Fatal(err)
		}
		got, err = st.Packet(ctx, p.ReviewID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != review.Approved || got.Decision == nil {
			t.Fatalf("older UpdatedAt overwrote the packet: %+v", got)
		}

		other := review.Packet{ReviewID: review.ID("A-2", week1), AccountID: "A-2", Owner: "sam",
			Cycle: week1, State: review.AwaitingApproval, CreatedAt: t0, UpdatedAt: t0}
		if err := st.SavePacket(ctx, other); err != nil {
			t.Fatal(err)
		}

		for _, tc := range []struct {
			f    PacketFilter
			want []string
		}{
			{PacketFilter{}, []string{other.ReviewID, p.ReviewID}},
			{PacketFilter{Owner: "dana"}, []string{p.ReviewID}},
			{PacketFilter{State: review.AwaitingApproval}, []string{other.ReviewID}},
			{PacketFilter{Cycle: week2}, []string{p.ReviewID}},
			{PacketFilter{Through: week1}, []string{other.ReviewID}},
			{PacketFilter{Since: week2}, []string{p.ReviewID}},
			{PacketFilter{AccountID: "A-2", Owner: "dana"}, nil},
		} {
			ps, err := st.Packets(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, p := range ps {
				ids = append(ids, p.ReviewID)
			}
			if !reflect.DeepEqual(ids, tc.want) {
				t.Errorf("Packets(%+v) = %v, want %v", tc.f, ids, tc.want)
			}
		}

		for _, tc := range []struct {
			f    PacketFilter
			want []CycleCount
		}{
			{PacketFilter{}, []CycleCount{{week2, 1}, {week1, 1}}},
			{PacketFilter{Owner: "sam"}, []CycleCount{{week1, 1}}},
			{PacketFilter{Since: week2}, []CycleCount{{week2, 1}}},
			{PacketFilter{Owner: "nobody"}, nil},
		} {
			got, err := st.PacketCycles(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("PacketCycles(%+v) = %v, want %v", tc.f, got, tc.want)
			}
		}

		if _, err := st.Packet(ctx, "review/none"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Packet(unknown) error = %v, want ErrNotFound", err)
		}
		if err := st.SavePacket(ctx, review.Packet{}); err == nil {
			t.Error("SavePacket with no review ID succeeded")
		}
	})

	t.Run("EventsAreIdempotent", func(t *testing.T) {
		dsn, dir := location(t)
		st := mustOpen(t, dsn, dir)
		rid := review.ID("A-1", week2)
		e := review.Event{Key: review.EventKey(rid, "", review.EventFlagged, 0), ReviewID: rid, AccountID: "A-1",
			Kind: review.EventFlagged, Actor: "churnwatch", At: t0, Detail: "critical"}
		for i, want := range []bool{true, false, false} {
			inserted, err := st.AppendEvent(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			if inserted != want {
				t.Fatalf("write %d: inserted = %v, want %v", i, inserted, want)
			}
		}
		reminder := review.Event{Key: review.EventKey(rid, "", review.EventReminded, 1), ReviewID: rid, AccountID: "A-1",
			Kind: review.EventReminded, Actor: "churnwatch", At: t0.Add(24 * time.Hour)}
		if _, err := st.AppendEvent(ctx, reminder); err != nil {
			t.Fatal(err)
		}
		all, err := st.Events(ctx, EventFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(all, []review.Event{e, reminder}) {
			t.Fatalf("Events = %+v", all)
		}
		flagged, err := st.Events(ctx, EventFilter{ReviewID: rid, Kinds: []review.EventKind{review.EventFlagged, review.EventSaved}})
		if err != nil {
			t.Fatal(err)
		}
		if len(flagged) != 1 || flagged[0].Kind != review.EventFlagged {
			t.Fatalf("Events(flagged) = %+v", flagged)
		}
		if other, err := st.Events(ctx, EventFilter{AccountID: "A-9"}); err != nil || len(other) != 0 {
			t.Fatalf("Events(A-9) = %v, %v", other, err)
		}
		if _, err := st.AppendEvent(ctx, review.Event{Kind: review.EventFlagged}); err == nil {
			t.Error("AppendEvent with no key succeeded")
		}
	})

	t.Run("ConcurrentAppends", func(t *testing.T) {
		dsn, dir := location(t)
		st := mustOpen(t, dsn, dir)
		// Eight writers; each key is written by two of them, as when an
		// activity is retried while its first attempt is still running.
		const writers, perWriter = 8, 40
		var inserted atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perWriter {
					rid := fmt.Sprintf("review/A-%d/%s", (w/2)*perWriter+i, week2)
					ok, err := st.AppendEvent(ctx, review.Event{Key: review.EventKey(rid, "", review.EventFlagged, 0),
						ReviewID: rid, Kind: review.EventFlagged, At: t0})
					if err != nil {
						errs <- err
						return
					}
					if ok {
						inserted.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		want := writers / 2 * perWriter
		all, err := st.Events(ctx, EventFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != want || inserted.Load() != int64(want) {
			t.Fatalf("stored %d events, %d reported inserted; want %d of each", len(all), inserted.Load(), want)
		}
	})

	t.Run("ConcurrentOpenMigratesOnce", func(t *testing.T) {
		dsn, dir := location(t)
		const n = 4
		stores := make([]Store, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				stores[i], errs[i] = Open(ctx, dsn, dir)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("Open %d: %v", i, err)
			}
			defer stores[i].Close()
		}
		if _, err := stores[n-1].AppendEvent(ctx, review.Event{Key: "k", ReviewID: "r", Kind: review.EventFlagged, At: t0}); err != nil {
			t.Fatal(err)
		}
		if evs, err := stores[0].Events(ctx, EventFilter{}); err != nil || len(evs) != 1 {
			t.Fatalf("Events = %v, %v", evs, err)
		}
	})

	t.Run("ReopenKeepsEverything", func(t *testing.T) {
		dsn, dir := location(t)
		st, err := Open(ctx, dsn, dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.SaveScores(ctx, "b1", []risk.Assessment{assessment("A-1", week1, 70, risk.Elevated, "h1")}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AppendEvent(ctx, review.Event{Key: "k1", ReviewID: "r1", Kind: review.EventFlagged, At: t0}); err != nil {
			t.Fatal(err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		// Two handles at once, like the worker and a starter command.
		a, b := mustOpen(t, dsn, dir), mustOpen(t, dsn, dir)
		if ok, err := b.AppendEvent(ctx, review.Event{Key: "k1", ReviewID: "r1", Kind: review.EventFlagged, At: t0}); err != nil || ok {
			t.Fatalf("re-append after reopen: inserted=%v err=%v", ok, err)
		}
		if _, err := b.AppendEvent(ctx, review.Event{Key: "k2", ReviewID: "r1", Kind: review.EventDrafted, At: t0}); err != nil {
			t.Fatal(err)
		}
		evs, err := a.Events(ctx, EventFilter{ReviewID: "r1"})
		if err != nil || len(evs) != 2 {
			t.Fatalf("Events after reopen = %v, %v", evs, err)
		}
		scores, err := a.ScoresAsOf(ctx, week1)
		if err != nil || len(scores) != 1 || scores[0].Score != 70 {
			t.Fatalf("ScoresAsOf after reopen = %v, %v", scores, err)
		}
	})
}

// TestSQLiteTwoProcesses appends the same events from this process and a
// child process at once, against one SQLite file: nothing is lost, nothing is
// written twice, and neither side fails on the lock.
func TestSQLiteTwoProcesses(t *testing.T) {
	if os.Getenv("CHURNWATCH_STORE_CHILD_DIR") != "" {
		t.Skip("runs in the parent")
	}
	dir := t.TempDir()
	st := mustOpen(t, "", dir)
	child := exec.Command(os.Args[0], "-test.run=^TestSQLiteChildProcess$", "-test.count=1")
	child.Env = append(os.Environ(), "CHURNWATCH_STORE_CHILD_DIR="+dir)
	var out syncBuffer
	child.Stdout, child.Stderr = &out, &out
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	n, err := appendMany(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Wait(); err != nil {
		t.Fatalf("child: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "PASS") {
		t.Fatalf("child did not run its appends:\n%s", out.String())
	}
	evs, err := st.Events(context.Background(), EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != childEvents {
		t.Fatalf("stored %d events, want %d (this process inserted %d)", len(evs), childEvents, n)
	}
}

const childEvents = 300

func TestSQLiteChildProcess(t *testing.T) {
	dir := os.Getenv("CHURNWATCH_STORE_CHILD_DIR")
	if dir == "" {
		t.Skip("helper for TestSQLiteTwoProcesses")
	}
	st := mustOpen(t, "", dir)
	if _, err := appendMany(context.Background(), st); err != nil {
		t.Fatal(err)
	}
}

func appendMany(ctx context.Context, st Store) (int, error) {
	n := 0
	for i := range childEvents {
		ok, err := st.AppendEvent(ctx, review.Event{Key: "k" + strconv.Itoa(i), ReviewID: "r", Kind: review.EventReminded, At: t0})
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = append(s.b, p...)
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b)
}

func TestOpenRejectsUnknownDSN(t *testing.T) {
	_, err := Open(context.Background(), "mysql://user:secret@host/db", t.TempDir())
	if err == nil {
		t.Fatal("Open accepted a mysql DSN")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error leaks the password: %v", err)
	}
}
