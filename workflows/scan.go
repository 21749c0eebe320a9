package workflows

import (
	"errors"
	"fmt"
	"sort"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
)

// PortfolioScan ingests a batch of snapshots, scores every account in
// chunks, and starts an AccountReview for each account that crossed into
// elevated or critical since the last scan or jumped by the configured
// points. Review IDs are stable per account and cycle and accounts with an
// open review are skipped, so a rescan never duplicates a review.
func PortfolioScan(ctx workflow.Context, in ScanInput) (ScanResult, error) {
	logger := workflow.GetLogger(ctx)
	ingestCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Minute,
		ScheduleToCloseTimeout: 3 * time.Hour, // five attempts and their backoff
		HeartbeatTimeout:       time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			MaximumInterval:        time.Minute,
			MaximumAttempts:        5,
			NonRetryableErrorTypes: []string{ErrInvalidInput},
		},
	})
	var ing IngestResult
	if err := workflow.ExecuteActivity(ingestCtx, ActIngest, in).Get(ctx, &ing); err != nil {
		return ScanResult{}, fmt.Errorf("ingest: %w", err)
	}
	res := ScanResult{
		BatchID:  ing.BatchID,
		AsOf:     ing.AsOf,
		Rows:     ing.Rows,
		Accounts: max(ing.AccountCount, len(ing.Accounts)),
		Tiers:    map[risk.Tier]int{},
		Rejected: ing.Rejected,
		Warnings: ing.Warnings,
	}

	candidates, err := scoreChunks(ctx, in, ing, &res)
	if err != nil {
		return res, err
	}

	// Start the reviews, most severe first. An activity starts them through
	// the client in batches: they outlive the scan, and a workflow may have
	// at most 2,000 pending children, which a large book's at-risk accounts
	// pass. Scans recorded before this started them as children.
	if workflow.GetVersion(ctx, "start-reviews-by-activity", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		err = startChildReviews(ctx, in, ing.AsOf, candidates, &res)
	} else {
		err = startReviews(ctx, in, ing.AsOf, candidates, &res)
	}
	if err != nil {
		return res, err
	}
	res.StartedCount, res.AlreadyOpenCount = len(res.Started), len(res.AlreadyOpen)
	sort.Strings(res.AlreadyOpen)
	res.Started = res.Started[:min(len(res.Started), MaxListed)]
	res.AlreadyOpen = res.AlreadyOpen[:min(len(res.AlreadyOpen), MaxListed)]
	logger.Info("scan done", "batch_id", res.BatchID, "as_of", res.AsOf, "accounts", res.Accounts,
		"started", res.StartedCount, "already_open", res.AlreadyOpenCount, "rejected", len(res.Rejected))
	return res, nil
}

// scoreChunks scores the batch in chunks, in parallel, one activity a
// chunk, adds up the tiers and the accounts already under review into res,
// and returns the candidates for a review, most severe first. Chunks are
// named by their bounds; scans recorded before bounds listed the accounts
// instead, and the recorded Ingest result says which, so replay is stable.
func scoreChunks(ctx workflow.Context, in ScanInput, ing IngestResult, res *ScanResult) ([]Candidate, error) {
	var requests []ScoreRequest
	for _, r := range ing.Chunks {
		requests = append(requests, ScoreRequest{Range: &r})
	}
	chunk := in.ChunkSize
	if chunk <= 0 {
		chunk = DefaultChunkSize
	}
	for start := 0; start < len(ing.Accounts); start += chunk {
		requests = append(requests, ScoreRequest{Accounts: ing.Accounts[start:min(start+chunk, len(ing.Accounts))]})
	}
	scoreCtx := withDefaultActivityOptions(ctx)
	scoreCtx = workflow.WithStartToCloseTimeout(scoreCtx, 10*time.Minute)
	var futures []workflow.Future
	for _, req := range requests {
		req.BatchID, req.AsOf, req.JumpPoints, req.Peers = ing.BatchID, ing.AsOf, in.JumpPoints, ing.Peers
		futures = append(futures, workflow.ExecuteActivity(scoreCtx, ActScoreChunk, req))
	}
	var candidates []Candidate
	for _, f := range futures {
		var sr ScoreResult
		if err := f.Get(ctx, &sr); err != nil {
			return nil, fmt.Errorf("score: %w", err)
		}
		for t, n := range sr.Tiers {
			res.Tiers[t] += n
		}
		candidates = append(candidates, sr.Candidates...)
		res.AlreadyOpen = append(res.AlreadyOpen, sr.OpenReviews...)
	}
	sortCandidates(candidates)
	return candidates, nil
}

// startBatch is how many reviews one StartReviews activity starts.
const startBatch = 200

// startReviews starts the candidates' reviews through StartReviews
// activities, startBatch at a time, all batches at once.
func startReviews(ctx workflow.Context, in ScanInput, cycle string, candidates []Candidate, res *ScanResult) error {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    10 * time.Minute,
		ScheduleToCloseTimeout: DefaultScheduleToClose,
		HeartbeatTimeout:       time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
	})
	var futures []workflow.Future
	for lo := 0; lo < len(candidates); lo += startBatch {
		futures = append(futures, workflow.ExecuteActivity(actx, ActStartReviews, StartReviewsRequest{
			Cycle: cycle, Policy: in.Policy, Candidates: candidates[lo:min(lo+startBatch, len(candidates))],
		}))
	}
	for _, f := range futures {
		var sr StartReviewsResult
		if err := f.Get(ctx, &sr); err != nil {
			return fmt.Errorf("start reviews: %w", err)
		}
		res.Started = append(res.Started, sr.Started...)
		res.AlreadyOpen = append(res.AlreadyOpen, sr.AlreadyOpen...)
	}
	return nil
}

// startChildReviews is how scans recorded before StartReviews started the
// reviews: as child workflows that outlive the scan (ABANDON). It stays for
// their replay.
func startChildReviews(ctx workflow.Context, in ScanInput, cycle string, candidates []Candidate, res *ScanResult) error {
	type started struct {
		c Candidate
		f workflow.ChildWorkflowFuture
	}
	var children []started
	for _, c := range candidates {
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:            review.ID(c.AccountID, cycle),
			ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			TypedSearchAttributes: ReviewSearchAttributes(c),
		})
		children = append(children, started{c, workflow.ExecuteChildWorkflow(cctx, ReviewWorkflow, NewReviewInput(c, cycle, in.Policy))})
	}
	for _, ch := range children {
		err := ch.f.GetChildWorkflowExecution().Get(ctx, nil)
		switch {
		case err == nil:
			res.Started = append(res.Started, ch.c)
		case isAlreadyStarted(err):
			res.AlreadyOpen = append(res.AlreadyOpen, ch.c.AccountID)
		default:
			return fmt.Errorf("start review of %s: %w", ch.c.AccountID, err)
		}
	}
	return nil
}

// NewReviewInput is the input of candidate c's review in cycle.
func NewReviewInput(c Candidate, cycle string, policy review.Policy) ReviewInput {
	return ReviewInput{
		ReviewID:    review.ID(c.AccountID, cycle),
		AccountID:   c.AccountID,
		AccountName: c.AccountName,
		Owner:       c.Owner,
		Cycle:       cycle,
		Event:       c.Reason,
		Tier:        c.Tier,
		Score:       c.Score,
		Policy:      policy,
	}
}

// ReviewSearchAttributes are the search attributes a new review starts
// with, so `reviews list` finds it by account, owner, tier, score and state.
func ReviewSearchAttributes(c Candidate) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		AccountIDKey.ValueSet(c.AccountID),
		OwnerKey.ValueSet(c.Owner),
		RiskTierKey.ValueSet(string(c.Tier)),
		RiskScoreKey.ValueSet(int64(c.Score)),
		ReviewStateKey.ValueSet(string(review.Drafting)),
	)
}

// DefaultChunkSize is how many accounts one scoring activity handles when
// the scan input does not say.
const DefaultChunkSize = 500

func isAlreadyStarted(err error) bool {
	var already *temporal.ChildWorkflowExecutionAlreadyStartedError
	return errors.As(err, &already) || temporal.IsWorkflowExecutionAlreadyStartedError(err)
}

// sortCandidates puts the most severe first, so the most urgent reviews
// start first; the order is deterministic for replay.
func sortCandidates(cs []Candidate) {
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].Tier.Rank() != cs[j].Tier.Rank() {
			return cs[i].Tier.Rank() < cs[j].Tier.Rank()
		}
		if cs[i].Score != cs[j].Score {
			return cs[i].Score > cs[j].Score
		}
		return cs[i].AccountID < cs[j].AccountID
	})
}
