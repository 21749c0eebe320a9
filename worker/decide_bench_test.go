package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/simulate"
	"github.com/churnwatch/churnwatch/snapshot"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/workflows"
)

const (
	// decideBookAccounts sizes the simulated book so that its scan opens
	// at least decideMinReviews reviews and at most workflows.MaxListed (the
	// scan result lists no more, and awaitingReviews reads that list).
	decideBookAccounts = 2000
	decideMinReviews   = 200
	// decideClients decide at once, like a team working its queue;
	// decideRetrying of them resend every request with the same
	// Idempotency-Key, as a script retrying after a timeout does.
	decideClients  = 20
	decideRetrying = 2
)

// decideJob is one review to approve, as its owner.
type decideJob struct{ reviewID, owner string }

// decideAnswer is what one client saw for one review.
type decideAnswer struct {
	job      decideJob
	codes    []int           // every answer's status: the first, then the retry's
	packets  []review.Packet // every answer's packet
	problems []string        // transport or decoding failures
	retried  bool            // the request was sent twice with one key
}

// BenchmarkDecisionsThroughAPI approves every review of a simulated book
// through the worker's token API, 20 clients at once, each with the
// owner's token, against a real worker on the embedded Temporal server, and
// reports decisions per second (API answers, each one a completed Temporal
// Update). Two of the clients send every request twice with the same
// Idempotency-Key. Afterwards every review must hold exactly one decision,
// by its owner, and exactly one `reviewed` measurement event: a lost or
// doubled decision fails the benchmark.
//
//	go test -run '^$' -bench DecisionsThroughAPI -benchtime 1x ./worker
func BenchmarkDecisionsThroughAPI(b *testing.B) {
	cfg := testConfig(b, b.TempDir())
	tm := addTeam(b, cfg)
	c := startWorker(b, cfg)

	// The book's owners are the team's CSMs, who all have tokens.
	rows, _ := simulate.Portfolio(simulate.Options{Accounts: decideBookAccounts, Weeks: 12, Seed: 20261116,
		Start: simulate.BookWeek.AddDate(0, 0, -7*11), Owners: []string{"dana", "li.wei", "marco", "priya"}})
	book := filepath.Join(b.TempDir(), "book.csv")
	if err := writeBook(book, rows); err != nil {
		b.Fatal(err)
	}
	setup := time.Now()
	res := scan(b, c, cfg, book)
	if res.StartedCount < decideMinReviews || res.StartedCount != len(res.Started) {
		b.Fatalf("the scan of %d accounts started %d reviews (%d listed); want %d to %d", res.Accounts, res.StartedCount, len(res.Started), decideMinReviews, workflows.MaxListed)
	}
	byOwner := awaitingReviews(b, cfg, tm, res)
	var jobs []decideJob
	for owner, ids := range byOwner {
		for _, id := range ids {
			jobs = append(jobs, decideJob{id, owner})
		}
	}
	b.Logf("%d accounts scanned, %d reviews at the gate in %s", res.Accounts, len(jobs), time.Since(setup).Round(time.Second))
	// Each iteration decides its own share of the reviews; with more
	// iterations than the book allows, the figure would be of tiny rounds.
	perRound := len(jobs) / b.N
	if perRound < decideClients*5 {
		b.Fatalf("%d reviews cannot fill %d rounds of %d clients: run with -benchtime 1x", len(jobs), b.N, decideClients)
	}

	hc := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: decideClients}}
	var answers []decideAnswer
	b.ResetTimer()
	start := time.Now()
	for round := range b.N {
		work := make(chan decideJob)
		out := make(chan decideAnswer)
		var wg sync.WaitGroup
		for client := range decideClients {
			wg.Go(func() {
				for j := range work {
					out <- decide(hc, cfg.HTTP.Addr, tm.tokens[j.owner], j, client < decideRetrying, client == 0)
				}
			})
		}
		go func() {
			for _, j := range jobs[round*perRound : (round+1)*perRound] {
				work <- j
			}
			close(work)
			wg.Wait()
			close(out)
		}()
		for a := range out {
			answers = append(answers, a)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(len(answers))/elapsed.Seconds(), "decisions/s")

	// Every answer was 200 with the owner's approval, and a retry got the
	// first answer's decision, not a second one.
	retried := 0
	for _, a := range answers {
		for _, p := range a.problems {
			b.Errorf("%s: %s", a.job.reviewID, p)
		}
		for i, code := range a.codes {
			if code != http.StatusOK {
				b.Errorf("%s: answer %d was %d", a.job.reviewID, i+1, code)
			}
		}
		if len(a.packets) == 0 {
			continue
		}
		first := a.packets[0].Decision
		if first == nil || first.Actor != a.job.owner || first.Kind != review.Approve {
			b.Errorf("%s answered with decision %+v, want an approval by %s", a.job.reviewID, first, a.job.owner)
			continue
		}
		if a.retried {
			retried++
			if len(a.packets) != 2 || a.packets[1].Decision == nil || !a.packets[1].Decision.At.Equal(first.At) || a.packets[1].Decision.Actor != first.Actor {
				b.Errorf("%s: the retry with the same key answered another decision: %+v", a.job.reviewID, a.packets)
			}
		}
	}
	if retried == 0 {
		b.Errorf("no request was retried with the same Idempotency-Key")
	}
	checkDecidedOnce(b, tm.st, jobs[:b.N*perRound])
	b.ReportMetric(float64(retried), "retried")
	if b.Failed() {
		b.FailNow()
	}
}

// writeBook writes the simulated rows as the CSV an export job would drop.
func writeBook(path string, rows []snapshot.Snapshot) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write book: %w", err)
	}
	if err := snapshot.WriteCSV(f, rows); err != nil {
		f.Close()
		return fmt.Errorf("write book %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write book %s: %w", path, err)
	}
	return nil
}

// decide approves j as its owner. With retry, the same request goes twice
// with one Idempotency-Key: after the first answer (afterAnswer), or while
// the first is still in flight, as a client that timed out would resend.
// It runs on a client goroutine, so it reports instead of failing.
func decide(hc *http.Client, addr, token string, j decideJob, retry, afterAnswer bool) decideAnswer {
	a := decideAnswer{job: j, retried: retry}
	key := "bench-" + j.reviewID
	send := func() (int, review.Packet, error) {
		body, _ := json.Marshal(map[string]any{"decision": "approve", "note": "benchmark"})
		req, err := http.NewRequest("POST", "http://"+addr+apiPath(j.reviewID)+"/decision", bytes.NewReader(body))
		if err != nil {
			return 0, review.Packet{}, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		resp, err := hc.Do(req)
		if err != nil {
			return 0, review.Packet{}, err
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		if err != nil {
			return resp.StatusCode, review.Packet{}, fmt.Errorf("read the answer: %w", err)
		}
		var p review.Packet
		if resp.StatusCode == http.StatusOK {
			if err := json.Unmarshal(out, &p); err != nil {
				return resp.StatusCode, p, fmt.Errorf("decode the packet: %w", err)
			}
		} else {
			err = fmt.Errorf("%d: %s", resp.StatusCode, bytes.TrimSpace(out))
		}
		return resp.StatusCode, p, err
	}
	n := 1
	if retry {
		n = 2
	}
	type result struct {
		code int
		p    review.Packet
		err  error
	}
	results := make([]result, n)
	if retry && !afterAnswer {
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				code, p, err := send()
				results[i] = result{code, p, err}
			})
		}
		wg.Wait()
	} else {
		for i := range n {
			code, p, err := send()
			results[i] = result{code, p, err}
		}
	}
	for _, r := range results {
		a.codes = append(a.codes, r.code)
		if r.err != nil {
			a.problems = append(a.problems, r.err.Error())
			continue
		}
		a.packets = append(a.packets, r.p)
	}
	return a
}

// checkDecidedOnce fails b unless every job's review holds its owner's
// approval in the record and exactly one `reviewed` event. The workflow
// records the event after the Update answers, so the count is awaited.
func checkDecidedOnce(b *testing.B, st store.Store, jobs []decideJob) {
	b.Helper()
	ctx := context.Background()
	want := map[string]string{}
	for _, j := range jobs {
		want[j.reviewID] = j.owner
	}
	var count map[string]int
	var actor map[string]string
	settled := func() bool {
		events, err := st.Events(ctx, store.EventFilter{Kinds: []review.EventKind{review.EventReviewed}})
		if err != nil {
			b.Fatalf("read reviewed events: %v", err)
		}
		count, actor = map[string]int{}, map[string]string{}
		for _, e := range events {
			count[e.ReviewID]++
			actor[e.ReviewID] = e.Actor
		}
		for id := range want {
			if count[id] == 0 {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(2 * time.Minute)
	for !settled() && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	// A doubled event would land just after the first: look once more.
	time.Sleep(time.Second)
	settled()
	lost, doubled := 0, 0
	for id, owner := range want {
		switch n := count[id]; {
		case n == 0:
			lost++
			b.Errorf("%s: no reviewed event", id)
		case n > 1:
			doubled++
			b.Errorf("%s: %d reviewed events", id, n)
		case actor[id] != owner:
			b.Errorf("%s: reviewed by %s, want %s", id, actor[id], owner)
		}
		p, err := st.Packet(ctx, id)
		if err != nil {
			b.Errorf("%s: %v", id, err)
			continue
		}
		if d := p.Decision; d == nil || d.Actor != owner || d.Kind != review.Approve || d.Authority != "owner" {
			lost++
			b.Errorf("%s: recorded decision %+v, want an approval by its owner %s", id, p.Decision, owner)
		}
	}
	for id := range count {
		if _, ok := want[id]; !ok {
			b.Errorf("%s was not decided by the benchmark but has a reviewed event", id)
		}
	}
	if lost+doubled > 0 {
		b.Fatalf("%d of %d decisions lost, %d doubled", lost, len(want), doubled)
	}
}
