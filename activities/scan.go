package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/churnwatch/churnwatch/metrics"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/snapshot"
	"github.com/churnwatch/churnwatch/source"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/workflows"
)

// ScanActivities are PortfolioScan's: Ingest, ScoreChunk and StartReviews,
// with what they read and start reviews through. Their helpers are here
// and in inbox.go (the inbox's uploads), followup.go (follow-up reviews)
// and reservations.go (one open review per account).
type ScanActivities struct {
	Store store.Store
	Model risk.Model
	// DataDir receives the rejected-row reports.
	DataDir string
	// Source is the warehouse (source.dsn, source.query) a scan that asks
	// for it reads besides its files; nil when none is configured. Only its
	// name reaches workflow history, never its DSN.
	Source *source.Query
	// Policy is this worker's review policy. Reviews start with it (and the
	// managers and leaders of the user record), whatever the scan that asked
	// for them carries: who may decide, and who hears of a late decision,
	// is the worker's to say, never a caller's. Nil keeps the scan's policy
	// (tests that run activities without a worker).
	Policy *review.Policy
	// FollowUpWeeks is review.follow_up_weeks: how long after a rejection
	// or a still_at_risk outcome an account still at risk is reviewed again
	// (0 = FollowUpWeeks).
	FollowUpWeeks int
	// Temporal starts the reviews a scan asks for, on TaskQueue, and tells
	// whether a review holding an account still runs.
	Temporal  client.Client
	TaskQueue string
	Logger    *slog.Logger
	// Metrics records the scan steps' churnwatch_ series; nil records
	// nothing.
	Metrics *metrics.Metrics
}

// maxRejectedInResult bounds the rejected rows carried in workflow history;
// all of them are written to a CSV report beside the data.
const maxRejectedInResult = 200

// Ingest reads the scan's snapshot files, or the inbox's new uploads (and
// the warehouse source, when the scan asks for it), stores them as one
// immutable batch and lists the accounts to score. The batch ID is a hash
// of the input's contents, so ingesting the same input twice stores it once.
func (a *ScanActivities) Ingest(ctx context.Context, in workflows.ScanInput) (workflows.IngestResult, error) {
	defer a.Metrics.ScanStep(metrics.StepIngest, time.Now())
	// Reading and saving a large book take minutes: heartbeat throughout.
	defer heartbeatEvery(ctx, 10*time.Second)()
	files, id, batch, save, err := a.readInput(ctx, in)
	if err != nil {
		return workflows.IngestResult{}, err
	}
	activity.RecordHeartbeat(ctx, "read")
	asOf, err := resolveAsOf(in.AsOf, batch.Rows)
	if err != nil {
		return workflows.IngestResult{}, temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrInvalidInput, err)
	}
	if err := save(ctx, store.Batch{ID: id, SourceFiles: files, IngestedAt: time.Now().UTC()}, batch.Rows); err != nil {
		return workflows.IngestResult{}, fmt.Errorf("save batch %s: %w", id, err)
	}
	seen := map[string]bool{}
	var accounts []string
	for _, r := range batch.Rows {
		if !seen[r.AccountID] && !r.Week.After(asOf) {
			seen[r.AccountID] = true
			accounts = append(accounts, r.AccountID)
		}
	}
	sort.Strings(accounts)
	peers, err := a.measurePeers(ctx, accounts, asOf, in.ChunkSize)
	if err != nil {
		return workflows.IngestResult{}, err
	}
	res := workflows.IngestResult{
		Peers:        peers,
		BatchID:      id,
		Files:        files,
		AsOf:         asOf.Format(time.DateOnly),
		Rows:         len(batch.Rows),
		AccountCount: len(accounts),
		Chunks:       chunkRanges(accounts, in.ChunkSize),
		Rejected:     batch.Rejected,
		Warnings:     batch.Warnings,
	}
	if len(batch.Rejected) > maxRejectedInResult {
		path, err := a.writeRejections(id, batch.Rejected)
		if err != nil {
			return workflows.IngestResult{}, err
		}
		res.Rejected = batch.Rejected[:maxRejectedInResult]
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d rows rejected; the first %d are listed, all of them are in %s", len(batch.Rejected), maxRejectedInResult, path))
	}
	a.Metrics.Ingested(len(batch.Rows), len(batch.Rejected))
	logOr(a.Logger).Info("ingested", "batch_id", id, "files", files, "rows", len(batch.Rows), "rejected", len(batch.Rejected), "accounts", len(accounts), "as_of", res.AsOf)
	return res, nil
}

// StartReviews starts a review for each candidate, in order, unless the
// account already has one for the cycle (review IDs are never reused). A
// retry resumes after the reviews an earlier attempt reported in its
// heartbeat; one started just before a failure is then counted as already
// open, never started twice.
func (a *ScanActivities) StartReviews(ctx context.Context, in workflows.StartReviewsRequest) (workflows.StartReviewsResult, error) {
	defer a.Metrics.ScanStep(metrics.StepStartReviews, time.Now())
	var res workflows.StartReviewsResult
	if a.Temporal == nil {
		err := errors.New("this worker has no Temporal client to start reviews with")
		return res, temporal.NewNonRetryableApplicationError(err.Error(), "NoClient", err)
	}
	if activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &res); err != nil {
			res = workflows.StartReviewsResult{}
		}
	}
	policy, err := a.reviewPolicy(ctx, in.Policy)
	if err != nil {
		return res, err
	}
	for _, c := range in.Candidates[min(len(res.Started)+len(res.AlreadyOpen), len(in.Candidates)):] {
		started, err := a.startReview(ctx, c, in.Cycle, policy) // see reservations.go
		if err != nil {
			return res, err
		}
		if started {
			res.Started = append(res.Started, c)
		} else {
			res.AlreadyOpen = append(res.AlreadyOpen, c.AccountID)
		}
		activity.RecordHeartbeat(ctx, res)
	}
	return res, nil
}

// reviewPolicy is the policy new reviews start with: the worker's own, its
// managers and leaders joined by those of the user record (a CSM's manager
// there wins over the config's; leaders and admins there are leaders).
func (a *ScanActivities) reviewPolicy(ctx context.Context, requested review.Policy) (review.Policy, error) {
	if a.Policy == nil {
		return requested, nil
	}
	p := *a.Policy
	users, err := a.Store.Users(ctx)
	if err != nil {
		return p, fmt.Errorf("read the user record for the review policy: %w", err)
	}
	p.Managers = maps.Clone(p.Managers)
	if p.Managers == nil {
		p.Managers = map[string]string{}
	}
	p.Leaders = slices.Clone(p.Leaders)
	for _, u := range users {
		if u.Disabled {
			continue
		}
		if u.Manager != "" {
			p.Managers[u.Name] = u.Manager
		}
		if u.SeesAll() && !slices.Contains(p.Leaders, u.Name) {
			p.Leaders = append(p.Leaders, u.Name)
		}
	}
	return p, nil
}

// chunkRanges cuts the sorted accounts into chunks of size (default
// workflows.DefaultChunkSize), each named by its bounds.
func chunkRanges(accounts []string, size int) []workflows.AccountRange {
	if size <= 0 {
		size = workflows.DefaultChunkSize
	}
	var out []workflows.AccountRange
	for lo := 0; lo < len(accounts); lo += size {
		r := workflows.AccountRange{Last: accounts[min(lo+size, len(accounts))-1]}
		if lo > 0 {
			r.After = accounts[lo-1]
		}
		out = append(out, r)
	}
	return out
}

// measurePeers measures the common dip of each trend week over the whole
// book as of asOf (see risk.PeerLevels), from the stored history of the
// accounts a chunk at a time, so that the chunks ScoreChunk scores apart
// read usage against the whole book's peers, as `starter score` does.
func (a *ScanActivities) measurePeers(ctx context.Context, accounts []string, asOf time.Time, chunk int) (risk.PeerLevels, error) {
	if chunk <= 0 {
		chunk = workflows.DefaultChunkSize
	}
	counter := a.Model.NewPeerCounter(asOf)
	day := asOf.Format(time.DateOnly)
	for lo := 0; lo < len(accounts); lo += chunk {
		rows, err := a.Store.History(ctx, accounts[lo:min(lo+chunk, len(accounts))], day)
		if err != nil {
			return risk.PeerLevels{}, fmt.Errorf("load history for the peer levels: %w", err)
		}
		counter.Add(rows)
		activity.RecordHeartbeat(ctx, "peers")
	}
	return counter.Levels(), nil
}

// scanFiles resolves the input files: the named ones (an inbox scan reads
// the store's inbox instead; see readInbox).
func scanFiles(in workflows.ScanInput) ([]string, error) {
	files := in.Files
	if len(files) == 0 && !in.Source {
		return nil, errors.New("no input files")
	}
	return files, nil
}

// readScan reads the scan's files and, when the scan asks for it, the
// warehouse source after them, as one more file: files then ends with the
// source's name. The batch ID hashes the files and what the source gave.
func (a *ScanActivities) readScan(ctx context.Context, in workflows.ScanInput) (files []string, id string, batch snapshot.Batch, err error) {
	invalid := func(err error) ([]string, string, snapshot.Batch, error) {
		return nil, "", snapshot.Batch{}, temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrInvalidInput, err)
	}
	if files, err = scanFiles(in); err != nil {
		return invalid(err)
	}
	if batch, err = snapshot.ReadFiles(files); err != nil {
		return invalid(err)
	}
	var fromSource []string
	if in.Source {
		if a.Source == nil {
			return invalid(errors.New("the scan asks for the warehouse source, and this worker has no source.dsn"))
		}
		stop := heartbeatEvery(ctx, 10*time.Second) // a large query may run for minutes
		rows, sum, err := a.Source.Read(ctx)
		stop()
		if err != nil {
			if source.Refused(err) {
				return invalid(err)
			}
			return nil, "", snapshot.Batch{}, err // the warehouse may be back on a retry
		}
		batch = source.Join(batch, rows)
		fromSource = []string{a.Source.Name() + "\x00" + hex.EncodeToString(sum)}
	}
	if id, err = batchID(files, fromSource...); err != nil {
		return invalid(err)
	}
	if in.Source {
		files = append(files, a.Source.Name())
	}
	return files, id, batch, nil
}

// batchID hashes the files' names and contents, then each of more.
func batchID(files []string, more ...string) (string, error) {
	h := sha256.New()
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return "", fmt.Errorf("open %s: %w", name, err)
		}
		fmt.Fprintf(h, "%s\x00", filepath.Base(name))
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("read %s: %w", name, err)
		}
	}
	for _, m := range more {
		io.WriteString(h, m)
	}
	return "batch-" + hex.EncodeToString(h.Sum(nil))[:16], nil
}

func resolveAsOf(asOf string, rows []snapshot.Snapshot) (time.Time, error) {
	if asOf != "" {
		t, err := time.Parse(time.DateOnly, asOf)
		if err != nil {
			return time.Time{}, fmt.Errorf("as-of %q is not a YYYY-MM-DD date", asOf)
		}
		return snapshot.Monday(t), nil
	}
	var latest time.Time
	for _, r := range rows {
		if r.Week.After(latest) {
			latest = r.Week
		}
	}
	if latest.IsZero() {
		return time.Time{}, errors.New("no valid snapshot rows to score")
	}
	return latest, nil
}

func (a *ScanActivities) writeRejections(batchID string, rejected []snapshot.Rejection) (string, error) {
	dir := filepath.Join(a.DataDir, "rejected")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("write rejected rows: %w", err)
	}
	path := filepath.Join(dir, batchID+".csv")
	var b strings.Builder
	b.WriteString("file,row,field,reason\n")
	for _, r := range rejected {
		fmt.Fprintf(&b, "%s,%d,%s,%s\n", csvField(r.File), r.Row, csvField(r.Field), csvField(r.Reason))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return "", fmt.Errorf("write rejected rows: %w", err)
	}
	return path, nil
}

func csvField(s string) string {
	if strings.ContainsAny(s, ",\"\n") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// ScoreChunk scores a chunk of a batch's accounts on their stored history,
// stores the scores, and returns the accounts that call for a review.
func (a *ScanActivities) ScoreChunk(ctx context.Context, in workflows.ScoreRequest) (workflows.ScoreResult, error) {
	defer a.Metrics.ScanStep(metrics.StepScoreChunk, time.Now())
	asOf, err := time.Parse(time.DateOnly, in.AsOf)
	if err != nil {
		return workflows.ScoreResult{}, temporal.NewNonRetryableApplicationError("bad as-of", workflows.ErrInvalidInput, err)
	}
	accounts := in.Accounts
	if in.Range != nil {
		if accounts, err = a.Store.BatchAccounts(ctx, in.BatchID, in.AsOf, in.Range.After, in.Range.Last); err != nil {
			return workflows.ScoreResult{}, fmt.Errorf("list the chunk's accounts: %w", err)
		}
	}
	if len(accounts) == 0 {
		// History of no accounts would be the history of all of them.
		return workflows.ScoreResult{Tiers: map[risk.Tier]int{}}, nil
	}
	rows, err := a.Store.History(ctx, accounts, in.AsOf)
	if err != nil {
		return workflows.ScoreResult{}, fmt.Errorf("load history: %w", err)
	}
	// Score the chunk against the whole book's peers (holidays, regional
	// breaks), measured at ingest, so that the scan's tiers match the
	// score report however the book is chunked.
	scored, err := a.Model.ScoreWithPeers(rows, asOf, in.Peers)
	if err != nil {
		return workflows.ScoreResult{}, temporal.NewNonRetryableApplicationError("score chunk", workflows.ErrInvalidInput, err)
	}
	// The batch decides whether these replace the week's stored scores: a
	// corrected re-upload's batch is newer (see store.SaveScores).
	if err := a.Store.SaveScores(ctx, in.BatchID, scored); err != nil {
		return workflows.ScoreResult{}, fmt.Errorf("save scores: %w", err)
	}
	previous, err := a.Store.LatestScores(ctx, in.AsOf, accounts...)
	if err != nil {
		return workflows.ScoreResult{}, fmt.Errorf("load previous scores: %w", err)
	}
	followUps, err := a.followUps(ctx, scored, previous, in.JumpPoints, asOf)
	if err != nil {
		return workflows.ScoreResult{}, err
	}
	res := workflows.ScoreResult{Tiers: map[risk.Tier]int{}}
	for _, s := range scored {
		res.Tiers[s.Tier]++
		prev, hasPrev := previous[s.AccountID]
		reason := reviewReason(s, prev, hasPrev, in.JumpPoints)
		if reason == "" {
			reason = followUps[s.AccountID] // still at risk weeks after a rejection
		}
		if reason == "" {
			continue
		}
		open, err := a.openReview(ctx, s.AccountID)
		if err != nil {
			return workflows.ScoreResult{}, err
		}
		if open != "" {
			res.OpenReviews = append(res.OpenReviews, s.AccountID)
			continue
		}
		c := workflows.Candidate{AccountID: s.AccountID, AccountName: s.AccountName, Owner: s.Owner, Tier: s.Tier, Score: s.Score, Reason: reason}
		if hasPrev {
			c.PreviousTier, c.PreviousScore = prev.Tier, prev.Score
		}
		res.Candidates = append(res.Candidates, c)
	}
	return res, nil
}

// reviewReason says why an account needs a review now, or "" when it does
// not: it crossed into elevated or critical since the last scan, or its
// score jumped by at least jump points.
func reviewReason(s, prev risk.Assessment, hasPrev bool, jump int) string {
	switch {
	case s.Tier.AtRisk() && !hasPrev:
		return fmt.Sprintf("%s at first scan (score %d, as of %s)", s.Tier, s.Score, s.AsOf)
	case s.Tier.AtRisk() && tierWorse(s.Tier, prev.Tier):
		return fmt.Sprintf("crossed into %s (score %d, as of %s; was %s %d as of %s)", s.Tier, s.Score, s.AsOf, prev.Tier, prev.Score, prev.AsOf)
	case jump > 0 && hasPrev && s.Score-prev.Score >= jump && (s.Tier.AtRisk() || s.Tier == risk.Watch):
		return fmt.Sprintf("score jumped %d points to %d (%s, as of %s; was %d as of %s)", s.Score-prev.Score, s.Score, s.Tier, s.AsOf, prev.Score, prev.AsOf)
	}
	return ""
}

func tierWorse(now, before risk.Tier) bool { return now.Rank() < before.Rank() }
