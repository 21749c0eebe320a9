// Package fault holds Churnwatch's fault suite: tests that break what a
// deployment runs on, in the middle of the work, and prove that the work
// comes through whole. Each test drives the real binaries (the worker as a
// child process, so it can be killed with SIGKILL, and the starter as the
// command line), the official Temporal CLI's dev server where the fault
// involves an external Temporal, PostgreSQL where it involves the database,
// and loopback stand-ins for the webhook and the OpenAI-compatible LLM. It
// has no code of its own outside its tests.
//
//	go test -run Fault ./fault                 # the suite (make test runs it too)
//	go test -run Fault100k ./fault -args -fault.full # the simulator's ordinary 100k book: thousands of reviews
//
// Every test checks the same three things after its fault:
//
//   - nothing lost: every account the risk model flags has its review, every
//     decision sent is recorded, every notice reaches the webhook once it is
//     back;
//   - nothing doubled: one review per account, one `flagged` and one
//     `drafted` event per review, one `reviewed` event per decision, each
//     notice received once;
//   - nothing stuck: every review reaches the state it should (awaiting
//     approval with its drafts, or its action once approved) within a bound
//     the test polls for; a sleep is never an assertion.
//
// The tests skip, saying what is missing, when CHURNWATCH_TEST_TEMPORAL_CLI
// or CHURNWATCH_TEST_POSTGRES_DSN is unset (`make test` sets both) or, for
// the full-disk and read-only data dir, when the test cannot mount a small
// tmpfs (it needs root). The PostgreSQL the suite restarts is a cluster
// of its own, made by .ci/postgres.sh in a directory and on a port of its
// own, so the store's tests on the shared cluster never see the restart.
//
// The tests run in parallel: most of their time is spent waiting out the
// timeouts that bring work back after a fault (an activity's heartbeat or
// start-to-close timeout, the notice outbox's 30 s retry). Each adds a
// line to a table of faults, what was checked and the result with its
// figures, printed at the end (go test -v shows it).
package fault
