package workflows

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/snapshot"
)

func TestScanStartsOneReviewPerCandidateInChunks(t *testing.T) {
	accounts := []string{"A-1", "A-2", "A-3", "A-4", "A-5"}
	ingests := map[string]IngestResult{
		// Chunks named by their bounds, as Ingest writes them now.
		"ranges": {AccountCount: 5, Chunks: []AccountRange{{Last: "A-2"}, {After: "A-2", Last: "A-4"}, {After: "A-4", Last: "A-5"}}},
		// The account list that scans recorded before bounds carried.
		"listed": {Accounts: accounts},
	}
	for name, ing := range ingests {
		t.Run(name, func(t *testing.T) { testScan(t, accounts, ing) })
	}
}

func testScan(t *testing.T, accounts []string, ing IngestResult) {
	var ts testsuite.WorkflowTestSuite
	ts.SetLogger(quietLogger)
	env := ts.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(PortfolioScan, workflowRegisterOptions(ScanWorkflow))
	defer watchBounds(t, env)() // every activity of the scan has a schedule-to-close bound

	ing.BatchID, ing.AsOf, ing.Rows = "batch-1", "2026-11-16", 60
	ing.Rejected = []snapshot.Rejection{{File: "x.csv", Row: 7, Field: "dau_mau", Reason: "1.7 is outside [0,1]"}}
	env.RegisterActivityWithOptions(func(ctx context.Context, in ScanInput) (IngestResult, error) {
		return ing, nil
	}, activity.RegisterOptions{Name: ActIngest})
	var (
		mu     sync.Mutex // the chunks are scored in parallel
		chunks [][]string
	)
	env.RegisterActivityWithOptions(func(ctx context.Context, in ScoreRequest) (ScoreResult, error) {
		ids := in.Accounts
		if in.Range != nil {
			ids = nil
			for _, id := range accounts {
				if id > in.Range.After && id <= in.Range.Last {
					ids = append(ids, id)
				}
			}
		}
		mu.Lock()
		chunks = append(chunks, ids)
		mu.Unlock()
		res := ScoreResult{Tiers: map[risk.Tier]int{}}
		for _, id := range ids {
			switch id {
			case "A-2":
				res.Tiers[risk.Elevated]++
				res.Candidates = append(res.Candidates, Candidate{AccountID: id, Owner: "li.wei", Tier: risk.Elevated, Score: 55})
			case "A-4":
				res.Tiers[risk.Critical]++
				res.Candidates = append(res.Candidates, Candidate{AccountID: id, Owner: "dana", Tier: risk.Critical, Score: 81})
			case "A-5":
				res.Tiers[risk.Critical]++
				res.OpenReviews = append(res.OpenReviews, id)
			default:
				res.Tiers[risk.Healthy]++
			}
		}
		return res, nil
	}, activity.RegisterOptions{Name: ActScoreChunk})

	var startedIDs []string
	env.RegisterActivityWithOptions(func(ctx context.Context, in StartReviewsRequest) (StartReviewsResult, error) {
		var res StartReviewsResult
		mu.Lock()
		defer mu.Unlock()
		for _, c := range in.Candidates {
			startedIDs = append(startedIDs, review.ID(c.AccountID, in.Cycle))
			res.Started = append(res.Started, c)
		}
		return res, nil
	}, activity.RegisterOptions{Name: ActStartReviews})

	env.ExecuteWorkflow(PortfolioScan, ScanInput{Files: []string{"x.csv"}, ChunkSize: 2, JumpPoints: 15})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res ScanResult
	require.NoError(t, env.GetWorkflowResult(&res))

	require.ElementsMatch(t, [][]string{{"A-1", "A-2"}, {"A-3", "A-4"}, {"A-5"}}, chunks, "5 accounts in chunks of 2")
	require.Equal(t, 5, res.Accounts)
	require.Equal(t, map[risk.Tier]int{risk.Healthy: 2, risk.Elevated: 1, risk.Critical: 2}, res.Tiers)
	require.Len(t, res.Started, 2)
	require.Equal(t, "A-4", res.Started[0].AccountID, "the most severe review starts first")
	require.ElementsMatch(t, []string{review.ID("A-4", "2026-11-16"), review.ID("A-2", "2026-11-16")}, startedIDs)
	require.Equal(t, []string{"A-5"}, res.AlreadyOpen)
	require.Len(t, res.Rejected, 1, "rejected rows reach the scan's result")
}

// TestScanStartsManyReviewsInBatches scans a book with more at-risk accounts
// than one workflow may have children: the reviews start through
// StartReviews activities, startBatch at a time; accounts that already have
// a review for the cycle are counted, and the result lists at most
// MaxListed of each.
func TestScanStartsManyReviewsInBatches(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	ts.SetLogger(quietLogger)
	env := ts.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(PortfolioScan, workflowRegisterOptions(ScanWorkflow))

	const n = 2500
	env.RegisterActivityWithOptions(func(ctx context.Context, in ScanInput) (IngestResult, error) {
		return IngestResult{BatchID: "batch-1", AsOf: "2026-11-16", AccountCount: n, Chunks: []AccountRange{{Last: "~"}}}, nil
	}, activity.RegisterOptions{Name: ActIngest})
	env.RegisterActivityWithOptions(func(ctx context.Context, in ScoreRequest) (ScoreResult, error) {
		res := ScoreResult{Tiers: map[risk.Tier]int{risk.Critical: n}}
		for i := range n {
			res.Candidates = append(res.Candidates, Candidate{AccountID: fmt.Sprintf("A-%05d", i), Owner: "dana", Tier: risk.Critical, Score: 50 + i%50})
		}
		return res, nil
	}, activity.RegisterOptions{Name: ActScoreChunk})
	var (
		mu      sync.Mutex
		batches []int
	)
	env.RegisterActivityWithOptions(func(ctx context.Context, in StartReviewsRequest) (StartReviewsResult, error) {
		mu.Lock()
		batches = append(batches, len(in.Candidates))
		mu.Unlock()
		var res StartReviewsResult
		for _, c := range in.Candidates {
			if c.Score == 99 { // these accounts already have this cycle's review
				res.AlreadyOpen = append(res.AlreadyOpen, c.AccountID)
			} else {
				res.Started = append(res.Started, c)
			}
		}
		return res, nil
	}, activity.RegisterOptions{Name: ActStartReviews})

	env.ExecuteWorkflow(PortfolioScan, ScanInput{Files: []string{"x.csv"}})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res ScanResult
	require.NoError(t, env.GetWorkflowResult(&res))

	require.Len(t, batches, (n+startBatch-1)/startBatch)
	for _, b := range batches {
		require.LessOrEqual(t, b, startBatch)
	}
	require.Equal(t, n-n/50, res.StartedCount)
	require.Equal(t, n/50, res.AlreadyOpenCount)
	require.Len(t, res.Started, MaxListed)
	require.Len(t, res.AlreadyOpen, n/50)
	require.Equal(t, 98, res.Started[0].Score, "the most severe first")
}
