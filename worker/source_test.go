package main

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/prototext"

	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/snapshot"
	"github.com/churnwatch/churnwatch/workflows"
)

// sourceTable loads a snapshot CSV file into a table of a schema of the
// test's own in the test PostgreSQL, dropped when the test ends, and
// returns the query that gives its rows back in the file's order.
func sourceTable(t *testing.T, dsn, path string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := fmt.Sprintf("cw_worker_source_%d_%d", os.Getpid(), time.Now().UnixNano())
	t.Cleanup(func() {
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
		conn.Close(ctx)
	})
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	header := strings.Split(strings.TrimSpace(string(data[:bytes.IndexByte(data, '\n')])), ",")
	cols := []string{"line bigserial"}
	for _, h := range header {
		typ := "text" // a staging table: the reader checks the values
		switch h {
		case "week", "renewal_date", "last_exec_contact", "last_csm_meeting":
			typ = "date"
		case "arr", "dau_mau", "feature_adoption":
			typ = "numeric"
		}
		cols = append(cols, h+" "+typ)
	}
	table := schema + ".snapshots"
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema+"; CREATE TABLE "+table+" ("+strings.Join(cols, ", ")+")"); err != nil {
		t.Fatal(err)
	}
	list := strings.Join(header, ", ")
	if _, err := conn.PgConn().CopyFrom(ctx, bytes.NewReader(data), "COPY "+table+" ("+list+") FROM STDIN WITH (FORMAT csv, HEADER true)"); err != nil {
		t.Fatal(err)
	}
	return "SELECT " + list + " FROM " + table + " ORDER BY line"
}

// TestScheduledScanReadsTheSource: with a warehouse source configured, the
// weekly scan of the inbox reads the source besides the inbox files and
// starts a review for each at-risk account of both, with the DSN nowhere
// in the scan's history.
func TestScheduledScanReadsTheSource(t *testing.T) {
	dsn := os.Getenv("CHURNWATCH_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("CHURNWATCH_TEST_POSTGRES_DSN is not set (source .churnwatch/test-env)")
	}
	ctx := context.Background()
	cfg := testConfig(t, t.TempDir())
	cfg.Source.DSN = dsn
	cfg.Source.Query = sourceTable(t, dsn, examplePath(t))
	// Another week's export in the inbox, its bad rows with it.
	inboxFile := filepath.Join(cfg.InboxDir(), "week47.csv")
	bad, err := os.ReadFile("../examples/bad_rows.csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(cfg.InboxDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(inboxFile, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	c := startWorker(t, cfg)
	if err := ensureSchedules(ctx, c, cfg); err != nil {
		t.Fatal(err)
	}
	h := c.ScheduleClient().GetHandle(ctx, "churnwatch-weekly-scan")
	if err := h.Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		t.Fatal(err)
	}
	var scanID string
	waitFor(t, "the scheduled scan to start", func() bool {
		d, err := h.Describe(ctx)
		if err != nil || len(d.Info.RecentActions) == 0 || d.Info.RecentActions[0].StartWorkflowResult == nil {
			return false
		}
		scanID = d.Info.RecentActions[0].StartWorkflowResult.WorkflowID
		return true
	})
	var res workflows.ScanResult
	if err := c.GetWorkflow(ctx, scanID, "").Get(ctx, &res); err != nil {
		t.Fatalf("scan %s: %v", scanID, err)
	}

	// What the inbox file and the book give when read as one input. The
	// scan took the file into the store's inbox, where it is named by its
	// upload, and archived it under the batch.
	archived := filepath.Join(cfg.InboxDir(), "archive", res.BatchID, "week47.csv")
	batch, err := snapshot.ReadFiles([]string{archived, examplePath(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(inboxFile); err == nil {
		t.Error("the inbox file is still in the inbox after the scan")
	}
	for _, r := range res.Rejected {
		if strings.HasSuffix(r.File, "/week47.csv") {
			for i := range batch.Rejected {
				batch.Rejected[i].File = strings.ReplaceAll(batch.Rejected[i].File, archived, r.File)
				batch.Rejected[i].Reason = strings.ReplaceAll(batch.Rejected[i].Reason, archived, r.File)
			}
			break
		}
	}
	var atRisk []string
	accounts := 0
	for _, a := range cfg.Risk.NewReport(batch, time.Time{}).Accounts {
		accounts++
		if a.Tier == risk.Critical || a.Tier == risk.Elevated {
			atRisk = append(atRisk, a.AccountID)
		}
	}
	if res.Accounts != accounts || res.Rows != len(batch.Rows) {
		t.Fatalf("scanned %d accounts in %d rows, want %d in %d", res.Accounts, res.Rows, accounts, len(batch.Rows))
	}
	var started []string
	for _, s := range res.Started {
		started = append(started, s.AccountID)
	}
	slices.Sort(started)
	slices.Sort(atRisk)
	if len(atRisk) == 0 || !slices.Equal(started, atRisk) || res.StartedCount != len(atRisk) {
		t.Errorf("started reviews for %v, the at-risk accounts are %v", started, atRisk)
	}
	// The book's accounts (A-10xx) are in the source alone.
	if !slices.ContainsFunc(started, func(id string) bool { return strings.HasPrefix(id, "A-10") }) {
		t.Errorf("no review for an account of the source: %v", started)
	}
	if len(res.Rejected) == 0 || !slices.Equal(res.Rejected, batch.Rejected) {
		t.Errorf("rejected %v, want the inbox file's %v", res.Rejected, batch.Rejected)
	}

	// The scan's history has the flag, never the DSN.
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	iter := c.GetWorkflowHistory(ctx, scanID, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	sawFlag := false
	for iter.HasNext() {
		e, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		// Text, not JSON: JSON would hide the payloads in base64.
		if text := prototext.Format(e); strings.Contains(text, dsn) || strings.Contains(text, u.Host) {
			t.Fatalf("the scan's history holds the DSN: %s", text)
		}
		if in := e.GetWorkflowExecutionStartedEventAttributes().GetInput(); in != nil {
			var scan workflows.ScanInput
			if err := client.NewValue(in).Get(&scan); err != nil {
				t.Fatal(err)
			}
			sawFlag = scan.Source && scan.Inbox != ""
		}
	}
	if !sawFlag {
		t.Error("the scheduled scan's input does not ask for the source besides the inbox")
	}
}
