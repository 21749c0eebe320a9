package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/workflows"
)

var states = review.States

// runReviews lists reviews: through the worker's API when server.url is set,
// else from Temporal's visibility store, through the search attributes the
// review workflows keep current.
func runReviews(ctx context.Context, args []string, out io.Writer) error {
	if _, rest, err := splitSub(args, "list"); err != nil {
		return err
	} else {
		args = rest
	}
	fs := newFlagSet("reviews list")
	config.AddFlags(fs, "server")
	state := fs.String("state", "", "only reviews in this state ("+joinStates()+")")
	owner := fs.String("owner", "", "only reviews owned by this CSM")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return usageError(err)
	}
	if *state != "" && !slices.Contains(states, review.State(*state)) {
		return usageError(fmt.Errorf("--state %q is not one of %s", *state, joinStates()))
	}
	cfg, err := config.Load(fs)
	if err != nil {
		return err
	}
	var items []review.Item
	if cfg.Server.URL != "" {
		api, err := newAPIClient(cfg)
		if err != nil {
			return err
		}
		items, err = api.listReviews(ctx, review.State(*state), *owner)
		if err != nil {
			return err
		}
	} else {
		c, _, err := dial(ctx, fs)
		if err != nil {
			return err
		}
		defer c.Close()
		if items, err = listReviews(ctx, c, review.State(*state), *owner); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(items)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REVIEW\tTIER\tSCORE\tSTATE\tOWNER")
	for _, it := range items {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", it.ReviewID, it.Tier, it.Score, it.State, it.Owner)
	}
	return tw.Flush()
}

func joinStates() string {
	s := make([]string, len(states))
	for i, st := range states {
		s[i] = string(st)
	}
	return strings.Join(s, ", ")
}

func listReviews(ctx context.Context, c client.Client, state review.State, owner string) ([]review.Item, error) {
	query := fmt.Sprintf("WorkflowType = '%s'", workflows.ReviewWorkflow)
	if state != "" {
		query += fmt.Sprintf(" AND %s = '%s'", workflows.AttrReviewState, state)
	}
	if owner != "" {
		query += fmt.Sprintf(" AND %s = '%s'", workflows.AttrOwner, strings.ReplaceAll(owner, "'", ""))
	}
	items := []review.Item{}
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, NextPageToken: token})
		if err != nil {
			return nil, fmt.Errorf("list reviews: %w", err)
		}
		for _, ex := range resp.Executions {
			fields := ex.GetSearchAttributes().GetIndexedFields()
			it := review.Item{ReviewID: ex.GetExecution().GetWorkflowId()}
			decode := func(name string, v any) {
				if p, ok := fields[name]; ok {
					_ = converter.GetDefaultDataConverter().FromPayload(p, v)
				}
			}
			decode(workflows.AttrAccountID, &it.AccountID)
			decode(workflows.AttrRiskTier, &it.Tier)
			decode(workflows.AttrRiskScore, &it.Score)
			decode(workflows.AttrReviewState, &it.State)
			decode(workflows.AttrOwner, &it.Owner)
			items = append(items, it)
		}
		token = resp.NextPageToken
		if len(token) == 0 {
			break
		}
	}
	slices.SortFunc(items, func(a, b review.Item) int { return strings.Compare(a.ReviewID, b.ReviewID) })
	return items, nil
}

// reviewFlags are the flags of `review SUB`.
type reviewFlags struct {
	asJSON                                              bool
	actor, note, editFile, cause, reason, event, result string
}

// runReview shows one review or records a decision, progress or outcome:
// through the worker's API as the token's user when server.url is set, else
// through Temporal directly, as an administrator.
func runReview(ctx context.Context, args []string, out io.Writer) error {
	sub, rest, err := splitSub(args, "show", "approve", "reject", "progress", "outcome")
	if err != nil {
		return err
	}
	fs := newFlagSet("review " + sub)
	config.AddFlags(fs, "server")
	var f reviewFlags
	fs.BoolVar(&f.asJSON, "json", false, "print JSON")
	fs.StringVar(&f.actor, "as", "", "who decides, on the Temporal path only: the review's owner or a leader")
	fs.StringVar(&f.note, "note", "", "a note kept with the decision")
	fs.StringVar(&f.editFile, "edit-file", "", "approve with this edited outreach (first line may be 'Subject: ...')")
	fs.StringVar(&f.cause, "cause", "", "the cause the CSM confirms (kept apart from the suspected cause)")
	fs.StringVar(&f.reason, "reason", "", "why the review is rejected")
	fs.StringVar(&f.event, "event", "", "progress: outreach_sent or customer_responded")
	fs.StringVar(&f.result, "result", "", "outcome: saved, churned, still_at_risk or false_positive")
	if err := parseFlags(fs, rest); err != nil {
		return usageError(err)
	}
	if fs.NArg() != 1 {
		return usageError(fmt.Errorf("review %s takes exactly one REVIEW_ID", sub))
	}
	id := fs.Arg(0)
	if sub == "reject" && strings.TrimSpace(f.reason) == "" {
		return usageError(errors.New("--reason TEXT is required to reject"))
	}
	cfg, err := config.Load(fs)
	if err != nil {
		return err
	}

	var p review.Packet
	if cfg.Server.URL != "" {
		p, err = reviewThroughAPI(ctx, cfg, sub, id, f)
	} else {
		p, err = reviewThroughTemporal(ctx, fs, sub, id, f)
	}
	if err != nil {
		return err
	}
	if f.asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	}
	if sub != "show" {
		fmt.Fprintf(out, "%s: %s by %s; state %s\n", id, sub, actedBy(sub, p, f.actor), p.State)
		return nil
	}
	printPacket(out, p)
	return nil
}

// actedBy names who acted, as the packet records it when it does (on the
// API path the worker, not the command line, knows who that is).
func actedBy(sub string, p review.Packet, actor string) string {
	switch {
	case (sub == "approve" || sub == "reject") && p.Decision != nil && p.Decision.Actor != "":
		return p.Decision.Actor
	case sub == "outcome" && p.Outcome != nil && p.Outcome.Actor != "":
		return p.Outcome.Actor
	case actor != "":
		return actor
	}
	return "the token's user"
}

// reviewThroughTemporal queries or updates the review workflow directly.
// That is the administrators' way: the workflow checks --as against the
// owner and the leaders, but nothing checks that --as is who runs this.
func reviewThroughTemporal(ctx context.Context, fs *pflag.FlagSet, sub, id string, f reviewFlags) (review.Packet, error) {
	var p review.Packet
	if sub != "show" && f.actor == "" {
		return p, usageError(errors.New("--as CSM is required (or set --server and CHURNWATCH_TOKEN to act as yourself)"))
	}
	update, arg, err := temporalRequest(sub, f)
	if err != nil {
		return p, err
	}
	if sub != "show" {
		fmt.Fprintf(stderrFrom(ctx), "acting through Temporal directly as an administrator: --as %s is taken on trust; people decide with --server URL and CHURNWATCH_TOKEN\n", f.actor)
	}
	c, _, err := dial(ctx, fs)
	if err != nil {
		return p, err
	}
	defer c.Close()
	if sub == "show" {
		v, err := c.QueryWorkflow(ctx, id, "", workflows.QueryPacket)
		if err != nil {
			return p, fmt.Errorf("review %s: %w", id, err)
		}
		if err := v.Get(&p); err != nil {
			return p, fmt.Errorf("review %s: %w", id, err)
		}
		return p, nil
	}
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   id,
		UpdateName:   update,
		Args:         []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return p, fmt.Errorf("review %s %s: %w", sub, id, plainError(err))
	}
	if err := h.Get(ctx, &p); err != nil {
		return p, fmt.Errorf("review %s %s: %w", sub, id, plainError(err))
	}
	return p, nil
}

// temporalRequest is the update sub sends to the review workflow, and its
// argument; show sends none.
func temporalRequest(sub string, f reviewFlags) (string, any, error) {
	switch sub {
	case "approve":
		d := review.Decision{Kind: review.Approve, Actor: f.actor, Note: f.note, ConfirmedCause: f.cause}
		if f.editFile != "" {
			email, err := readEdit(f.editFile)
			if err != nil {
				return "", nil, err
			}
			d.Kind, d.EditedOutreach = review.EditAndApprove, &email
		}
		return workflows.UpdateDecide, d, nil
	case "reject":
		return workflows.UpdateDecide, review.Decision{Kind: review.Reject, Actor: f.actor, Reason: f.reason, Note: f.note}, nil
	case "progress":
		return workflows.UpdateProgress, review.Progress{Kind: review.EventKind(f.event), Actor: f.actor, Note: f.note}, nil
	case "outcome":
		return workflows.UpdateOutcome, review.Outcome{Kind: review.OutcomeKind(f.result), Actor: f.actor, Note: f.note}, nil
	}
	return "", nil, nil
}

// readEdit reads an edited outreach: an optional "Subject: ..." first line,
// then the body.
func readEdit(path string) (review.Email, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return review.Email{}, fmt.Errorf("--edit-file: %w", err)
	}
	text := strings.TrimSpace(string(b))
	var e review.Email
	if first, rest, ok := strings.Cut(text, "\n"); ok && strings.HasPrefix(strings.ToLower(first), "subject:") {
		e.Subject = strings.TrimSpace(first[len("subject:"):])
		text = strings.TrimSpace(rest)
	}
	e.Body = text
	if e.Body == "" {
		return e, fmt.Errorf("--edit-file %s: the edited outreach is empty", path)
	}
	return e, nil
}

func printPacket(out io.Writer, p review.Packet) {
	a := p.Assessment
	fmt.Fprintf(out, "%s — %s (%s), owner %s\n", p.ReviewID, p.AccountName, p.AccountID, p.Owner)
	fmt.Fprintf(out, "State: %s   Tier: %s   Score: %d   ARR: %.0f   Renewal: %s\n", p.State, p.Severity, a.Score, a.ARR, a.RenewalDate)
	fmt.Fprintf(out, "Event: %s\n", p.Event)
	fmt.Fprintln(out, "\nEvidence:")
	for _, s := range a.Signals {
		fmt.Fprintf(out, "  [%s] +%d %s — %s (%s, weeks %s, values %v)\n", s.ID, s.Points, s.Dimension, s.Text, s.Evidence.Field, strings.Join(s.Evidence.Weeks, ".."), s.Evidence.Values)
	}
	if len(a.Missing) > 0 {
		fmt.Fprintf(out, "  Missing evidence (unknown, not zero): %s\n", strings.Join(a.MissingText(), ", "))
	}
	if d := p.Draft; d != nil {
		fmt.Fprintf(out, "\nBrief (%s, prompts %s):\n%s\n", d.Drafter, d.PromptVersion, indent(d.Brief))
		fmt.Fprintf(out, "\nSuspected cause (not confirmed): %s\n", d.SuspectedCause)
		fmt.Fprintln(out, "\nTwo-week save plan:")
		for _, s := range d.SavePlan {
			fmt.Fprintf(out, "  day %2d  %-10s %s\n", s.Day, s.Owner, s.Action)
		}
		fmt.Fprintf(out, "\nOutreach draft (%s) — not sent; approve to release it to the owner:\nSubject: %s\n%s\n", d.Outreach.Language, d.Outreach.Subject, indent(d.Outreach.Body))
		for _, n := range d.Notes {
			fmt.Fprintf(out, "note: %s\n", n)
		}
	} else {
		fmt.Fprintln(out, "\nDrafts: still being written.")
	}
	if d := p.Decision; d != nil {
		fmt.Fprintf(out, "\nDecision: %s by %s at %s", d.Kind, d.Actor, d.At.Format("2006-01-02 15:04"))
		if d.Reason != "" {
			fmt.Fprintf(out, " — %s", d.Reason)
		}
		if d.ConfirmedCause != "" {
			fmt.Fprintf(out, "\nConfirmed cause: %s", d.ConfirmedCause)
		}
		fmt.Fprintln(out)
	}
	if p.FollowUpDate != "" {
		fmt.Fprintf(out, "Follow-up: %s\n", p.FollowUpDate)
	}
	if o := p.Outcome; o != nil {
		fmt.Fprintf(out, "Outcome: %s by %s\n", o.Kind, o.Actor)
	}
	if missing := p.Missing(time.Now()); len(missing) > 0 {
		fmt.Fprintf(out, "Packet incomplete: %s\n", strings.Join(missing, ", "))
	}
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n  ")
}
