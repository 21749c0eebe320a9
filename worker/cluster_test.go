package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/inbox"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/workflows"
)

// TestClusterTopology runs docker-compose.yml's topology without Docker: the
// official Temporal CLI's server as the cluster, PostgreSQL as the store,
// and two worker replicas pointed at both by configuration alone, embedding
// nothing. The Temporal CLI is also the client that approves a review.
func TestClusterTopology(t *testing.T) {
	cli := os.Getenv("CHURNWATCH_TEST_TEMPORAL_CLI")
	if cli == "" {
		t.Skip("CHURNWATCH_TEST_TEMPORAL_CLI is not set (make test installs the Temporal CLI and sets it)")
	}
	dsn := os.Getenv("CHURNWATCH_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("CHURNWATCH_TEST_POSTGRES_DSN is not set (make test starts PostgreSQL and sets it)")
	}
	dsn = freshDatabase(t, dsn)

	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	server := exec.Command(cli, "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", fmt.Sprint(port),
		"--http-port", fmt.Sprint(freePort(t)), "--metrics-port", fmt.Sprint(freePort(t)),
		"--db-filename", filepath.Join(t.TempDir(), "cluster.db"), "--log-level", "error")
	var serverLog bytes.Buffer
	server.Stdout, server.Stderr = &serverLog, &serverLog
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = server.Process.Kill()
		_ = server.Wait()
	})
	waitForWithin(t, 2*time.Minute, "the Temporal CLI's server", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})

	// The keys docker-compose.yml sets for worker-1 and worker-2 (deploy's
	// test checks them there): the cluster's address, one PostgreSQL, a
	// data dir each (no shared volume: uploads live in the store), and the
	// schedules kept by the first.
	var replicas []config.Config
	for i := range 2 {
		cfg := testConfig(t, t.TempDir())
		cfg.Temporal.Address = addr
		cfg.Store.DSN = dsn
		cfg.HTTP.APIToken = "cluster-token-0123456789"
		cfg.Schedule.Enabled = i == 0
		replicas = append(replicas, cfg)
	}
	c := startWorker(t, replicas[0])
	startWorker(t, replicas[1])
	cfg := replicas[0]

	// Nothing embedded: the embedded ports stay free and no SQLite file appears.
	for _, r := range replicas {
		if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", r.Temporal.Port)); err != nil {
			t.Errorf("the embedded frontend port is in use: %v", err)
		} else {
			l.Close()
		}
		if _, err := os.Stat(filepath.Join(r.DataDir, "temporal.db")); err == nil {
			t.Error("a worker created an embedded Temporal database while pointed at a cluster")
		}
	}
	// The first replica put the weekly schedules on the cluster.
	if _, err := c.ScheduleClient().GetHandle(context.Background(), "churnwatch-weekly-scan").Describe(context.Background()); err != nil {
		t.Errorf("the weekly scan schedule is not on the cluster: %v", err)
	}

	res := scan(t, c, cfg, examplePath(t))
	if len(res.Started) == 0 {
		t.Fatal("no review started on the cluster")
	}
	id := review.ID(res.Started[0].AccountID, res.AsOf)
	waitFor(t, "the drafts", func() bool { return queryPacket(t, c, id).Draft != nil })

	input := fmt.Sprintf(`{"kind":"approve","actor":%q,"note":"approved with the Temporal CLI"}`, res.Started[0].Owner)
	out, err := exec.Command(cli, "workflow", "update", "execute", "--address", addr,
		"--workflow-id", id, "--name", workflows.UpdateDecide, "--input", input).CombinedOutput()
	if err != nil {
		t.Fatalf("temporal workflow update execute: %v\n%s", err, out)
	}
	waitFor(t, "the action", func() bool { return queryPacket(t, c, id).State == review.ActionAssigned })

	// The worker registered the search attributes the CLI cluster lacked.
	waitFor(t, "the review in visibility", func() bool {
		out, err := exec.Command(cli, "workflow", "list", "--address", addr,
			"--query", fmt.Sprintf("%s = '%s'", workflows.AttrReviewState, review.ActionAssigned)).CombinedOutput()
		return err == nil && strings.Contains(string(out), id)
	})

	// The decision record went to PostgreSQL.
	st, err := store.Open(context.Background(), dsn, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := st.Packet(context.Background(), id)
	if err != nil {
		t.Fatalf("packet in PostgreSQL: %v", err)
	}
	if p.Decision == nil || p.Decision.Note != "approved with the Temporal CLI" {
		t.Fatalf("PostgreSQL packet lacks the decision: %+v", p.Decision)
	}

	// A file uploaded to the second replica is in the inbox the first
	// replica's scan reads, whichever replica runs it.
	whole, err := os.ReadFile(examplePath(t))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+replicas[1].HTTP.Addr+"/api/snapshots?name=week47.csv", bytes.NewReader(correctedWeek(t, whole)))
	req.Header.Set("Authorization", "Bearer "+replicas[1].HTTP.APIToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var rec inbox.Receipt
	json.NewDecoder(resp.Body).Decode(&rec)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("upload to the second replica: %s %+v", resp.Status, rec)
	}
	if res := scan(t, c, cfg); res.Rows != 50 || res.Accounts != 50 {
		t.Fatalf("the inbox scan read %d rows of %d accounts; want the upload's 50", res.Rows, res.Accounts)
	}
	if u, err := st.Upload(context.Background(), rec.Upload); err != nil || u.State != store.UploadConsumed {
		t.Fatalf("the upload after the scan: %+v, %v; want consumed", u, err)
	}
}

// freshDatabase creates an empty database beside the test DSN's, so this
// test shares nothing with the store's own tests.
func freshDatabase(t *testing.T, dsn string) string {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	name := fmt.Sprintf("churnwatch_cluster_%d", time.Now().UnixNano())
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", dsn)
		if err == nil {
			_, _ = db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			db.Close()
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
