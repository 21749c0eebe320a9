package fault

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/store"
)

// owners are the simulator's default CSMs, who own every simulated account.
var owners = []string{"dana", "li.wei", "marco", "priya", "sam.okafor"}

// addOwners adds the owners as CSMs with `starter users add` and gives
// each perOwner personal API tokens (`starter users token`), one per client.
func addOwners(t *testing.T, e *env, perOwner int) map[string][]string {
	t.Helper()
	tokens := map[string][]string{}
	for _, name := range owners {
		if _, errOut, code := starter(t, e, "fault-password-"+name+"\n", "users", "add", name, "--role", "csm", "--password-stdin"); code != 0 {
			t.Fatalf("users add %s: exit %d: %s", name, code, errOut)
		}
		for range perOwner {
			out, errOut, code := starter(t, e, "", "users", "token", name)
			if code != 0 {
				t.Fatalf("users token %s: exit %d: %s", name, code, errOut)
			}
			tokens[name] = append(tokens[name], strings.TrimSpace(out))
		}
	}
	return tokens
}

// job is one decision to send: approve reviewID as its owner.
type job struct{ reviewID, owner string }

// jobsOf lists the reviews by owner as jobs, limit in all (0: every one),
// taken round-robin across owners so every owner's clients have work.
func jobsOf(byOwner map[string][]string, limit int) []job {
	var names []string
	for o := range byOwner {
		names = append(names, o)
	}
	sort.Strings(names)
	var jobs []job
	for i := 0; ; i++ {
		added := false
		for _, o := range names {
			if i < len(byOwner[o]) && (limit == 0 || len(jobs) < limit) {
				jobs = append(jobs, job{byOwner[o][i], o})
				added = true
			}
		}
		if !added {
			return jobs
		}
	}
}

// answer is what a client finally got for one job.
type answer struct {
	job      job
	code     int // the last answer's status
	attempts int
	problem  string
}

// decideAll approves every job through the worker's token API, clients at
// once, each client with a token of its own per owner. A request that
// fails (no answer, a 5xx: Temporal or the database away) is sent again
// with the same Idempotency-Key until it is answered or within passes, as
// a script retrying does; the key makes the repeats decide once.
func decideAll(e *env, tokens map[string][]string, jobs []job, clients int, within time.Duration) []answer {
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	work := make(chan job)
	out := make(chan answer)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for j := range work {
				ts := tokens[j.owner]
				out <- decideOne(hc, e.httpAddr, ts[c%len(ts)], j, within)
			}
		})
	}
	go func() {
		for _, j := range jobs {
			work <- j
		}
		close(work)
		wg.Wait()
		close(out)
	}()
	var answers []answer
	for a := range out {
		answers = append(answers, a)
	}
	return answers
}

func apiPath(reviewID string) string {
	return "/api/reviews" + strings.TrimPrefix(review.PagePath(reviewID), "/review")
}

func decideOne(hc *http.Client, addr, token string, j job, within time.Duration) answer {
	a := answer{job: j}
	body, _ := json.Marshal(map[string]any{"decision": "approve", "note": "fault suite"})
	deadline := time.Now().Add(within)
	for {
		a.attempts++
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+apiPath(j.reviewID)+"/decision", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "fault-"+j.reviewID)
		resp, err := hc.Do(req)
		if err == nil {
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			a.code, a.problem = resp.StatusCode, strings.TrimSpace(string(msg))
			if resp.StatusCode < 500 {
				if resp.StatusCode == http.StatusOK {
					a.problem = ""
				}
				return a
			}
		} else {
			a.code, a.problem = 0, err.Error()
		}
		if time.Now().After(deadline) {
			return a
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// checkAnswers fails t for every job not finally answered 200, and
// returns how many needed more than one attempt.
func checkAnswers(t testing.TB, answers []answer) (retried int) {
	t.Helper()
	bad := 0
	for _, a := range answers {
		if a.attempts > 1 {
			retried++
		}
		if a.code != http.StatusOK {
			bad++
			if bad <= 10 {
				t.Errorf("%s: answered %d after %d attempts: %.200s", a.job.reviewID, a.code, a.attempts, a.problem)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d decisions not answered 200", bad, len(answers))
	}
	return retried
}

// awaitDecided waits until every job's review has moved past its gate to
// its action (nothing stuck), then checks the record: each holds its
// owner's approval and exactly one `reviewed` event (nothing lost, nothing
// doubled), and no other review of cycle was decided.
func awaitDecided(t testing.TB, st store.Store, cycle string, jobs []job, within time.Duration) {
	t.Helper()
	waitFor(t, within, fmt.Sprintf("the %d approved reviews at action_assigned", len(jobs)), func() bool {
		return countState(t, st, review.ActionAssigned) >= len(jobs)
	})
	want := map[string]string{}
	for _, j := range jobs {
		want[j.reviewID] = j.owner
	}
	count := checkEventsOnce(t, st, cycle, review.EventReviewed, review.EventActionAssigned)
	lost := 0
	for id, owner := range want {
		if count[id][review.EventReviewed] == 0 || count[id][review.EventActionAssigned] == 0 {
			lost++
			if lost <= 10 {
				t.Errorf("%s: events %v; want one reviewed and one action_assigned", id, count[id])
			}
		}
		p, err := st.Packet(ctx(t), id)
		if err != nil {
			t.Errorf("%s: %v", id, err)
			continue
		}
		if d := p.Decision; d == nil || d.Actor != owner || d.Kind != review.Approve || p.State != review.ActionAssigned {
			lost++
			if lost <= 10 {
				t.Errorf("%s: %s with decision %+v; want action_assigned, approved by %s", id, p.State, p.Decision, owner)
			}
		}
	}
	for id := range count {
		if _, ok := want[id]; !ok && count[id][review.EventReviewed] > 0 {
			t.Errorf("%s has a reviewed event but was never decided", id)
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d decisions lost or not carried out", lost, len(jobs))
	}
}

// TestFault1000DecisionsFrom50Clients approves 1,000 reviews through the
// worker's token API, 50 clients at once (ten per CSM, each with its own
// token), on the embedded default.
func TestFault1000DecisionsFrom50Clients(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	row := track(t, "1,000 decisions from 50 concurrent clients (token API, embedded Temporal, SQLite)",
		"every request answered 200; every review approved by its owner, one reviewed and one action_assigned event each, at action_assigned; no other review decided")
	e := newEnv(t)
	b := newBook(t, bookOptions(14000, 1000, false))
	if len(b.flagged) < 1000 {
		t.Fatalf("the book flags %d accounts; the test needs 1,000", len(b.flagged))
	}
	tokens := addOwners(t, e, 10)
	startWorker(t, e)
	st := openStore(t, e)
	start := time.Now()
	res := scan(t, e, []string{b.path})
	scanned := time.Since(start)
	byOwner := awaitGate(t, st, res.AsOf, b.flagged, 5*time.Minute)
	gate := time.Since(start)
	jobs := jobsOf(byOwner, 1000)
	start = time.Now()
	answers := decideAll(e, tokens, jobs, 50, 2*time.Minute)
	took := time.Since(start)
	checkAnswers(t, answers)
	awaitDecided(t, st, res.AsOf, jobs, 3*time.Minute)
	row.figure = fmt.Sprintf("14,000 accounts: scan %s, %d reviews drafted and waiting after %s; 1,000 decisions in %s (%.0f/s)",
		scanned.Round(time.Second), len(b.flagged), gate.Round(time.Second), took.Round(100*time.Millisecond), float64(len(jobs))/took.Seconds())
}
