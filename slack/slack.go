// Package slack brings reviews to their owners in Slack and takes their
// decisions back. When a review's drafts are ready the owner gets a direct
// message with the account, tier, score, why now, the suspected cause and
// Approve / Reject / Open buttons; reminders and escalations arrive as plain
// text. A button press comes back to POST /slack/interactions, signed by
// Slack, and is decided through the decision service as the Churnwatch
// user the Slack user is mapped to (slack.users): the same Temporal Update,
// with the same refusals, as the pages and the API.
package slack

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/store"
)

// The review message's buttons, and the reject modal's IDs.
const (
	actionApprove  = "approve"
	actionReject   = "reject"
	actionOpen     = "open"
	rejectCallback = "churnwatch_reject"
	reasonBlock    = "reason"
	reasonAction   = "reason"
)

// ErrRejected marks an answer from Slack that no retry can change: a
// revoked token, a user Slack does not know, a malformed message.
var ErrRejected = errors.New("slack rejected the message")

// Poster posts notices to their recipients' Slack direct messages.
type Poster struct {
	client   *slackapi.Client
	store    store.Store
	users    map[string]string // Churnwatch user → Slack user ID
	pagesURL string
	logger   *slog.Logger
	// draftWait bounds how long a flagged notice waits for the review's
	// drafts to reach the store: the workflow saves them while it notifies.
	draftWait time.Duration
}

// NewPoster posts with cfg's Slack bot token to cfg.Slack.APIURL, reading
// the reviews it announces from st.
func NewPoster(cfg config.Config, st store.Store, logger *slog.Logger) *Poster {
	return &Poster{
		client:    newClient(cfg),
		store:     st,
		users:     slackIDs(cfg.Slack.Users),
		pagesURL:  pagesURL(cfg),
		logger:    cmp.Or(logger, slog.Default()),
		draftWait: 5 * time.Second,
	}
}

func newClient(cfg config.Config) *slackapi.Client {
	return slackapi.New(cfg.Slack.BotToken,
		slackapi.OptionAPIURL(cfg.Slack.APIURL),
		slackapi.OptionHTTPClient(&http.Client{Timeout: 10 * time.Second}))
}

// pagesURL is where Slack's Open button sends people: the public address,
// else the notices' pages address, else the listener's own.
func pagesURL(cfg config.Config) string {
	return strings.TrimRight(cmp.Or(cfg.HTTP.PublicURL, cfg.Notify.PagesURL, "http://"+cfg.HTTP.Addr), "/")
}

// slackIDs reverses slack.users. Of two Slack accounts mapped to one user
// the smaller ID wins, so the choice never depends on map order. The config
// loader lower-cases map keys and Slack IDs are upper case, so they are
// upper-cased here.
func slackIDs(users map[string]string) map[string]string {
	ids := make([]string, 0, len(users))
	for id := range users {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := map[string]string{}
	for _, id := range ids {
		if name := users[id]; name != "" && out[name] == "" {
			out[name] = strings.ToUpper(id)
		}
	}
	return out
}

// Post sends notice n to its recipient's Slack, when they have one mapped:
// the flagged notice as the review message with its buttons, any other as
// plain text. The error wraps ErrRejected when retrying cannot help.
func (p *Poster) Post(ctx context.Context, n review.Notice) error {
	channel := p.users[n.To]
	if channel == "" {
		p.logger.Debug("no Slack user for the notice's recipient", "to", n.To, "review_id", n.ReviewID)
		return nil
	}
	page := p.pagesURL + review.PagePath(n.ReviewID)
	opts := []slackapi.MsgOption{slackapi.MsgOptionText(fmt.Sprintf("%s (review %s) <%s|Open the review>", escape(n.Message), escape(n.ReviewID), page), false)}
	if n.Kind == review.EventFlagged {
		pk, err := p.drafted(ctx, n.ReviewID)
		if err != nil {
			return err
		}
		opts = append(opts, slackapi.MsgOptionBlocks(reviewBlocks(pk, page, "")...))
	}
	if _, _, err := p.client.PostMessageContext(ctx, channel, opts...); err != nil {
		return classify("chat.postMessage", err)
	}
	p.logger.Info("posted to Slack", "to", n.To, "kind", n.Kind, "review_id", n.ReviewID)
	return nil
}

// drafted reads the review once its drafts are stored. The workflow saves
// them alongside the flagged notice, so they may be a moment behind it; if
// they are still missing the error is retried like any other.
func (p *Poster) drafted(ctx context.Context, reviewID string) (review.Packet, error) {
	deadline := time.Now().Add(p.draftWait)
	for {
		pk, err := p.store.Packet(ctx, reviewID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return pk, fmt.Errorf("read review %s: %w", reviewID, err)
		}
		if err == nil && pk.Draft != nil {
			return pk, nil
		}
		if time.Now().After(deadline) {
			return pk, fmt.Errorf("review %s: its drafts are not stored yet", reviewID)
		}
		select {
		case <-ctx.Done():
			return pk, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// classify wraps ErrRejected into errors no retry can change: an API error
// other than a rate limit or a fault on Slack's side, or a 4xx other than
// 408 and 429.
func classify(method string, err error) error {
	var api slackapi.SlackErrorResponse
	var status slackapi.StatusCodeError
	var limited *slackapi.RateLimitedError
	switch {
	case errors.As(err, &limited):
		return fmt.Errorf("slack %s: %w", method, err)
	case errors.As(err, &api):
		switch api.Err {
		case "ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout":
			return fmt.Errorf("slack %s: %s", method, api.Err)
		}
		return fmt.Errorf("%w: %s: %s", ErrRejected, method, api.Err)
	case errors.As(err, &status):
		if status.Code >= 400 && status.Code < 500 && status.Code != http.StatusRequestTimeout && status.Code != http.StatusTooManyRequests {
			return fmt.Errorf("%w: %s: %s", ErrRejected, method, status.Status)
		}
	}
	return fmt.Errorf("slack %s: %w", method, err)
}

// reviewBlocks is the review message: what the owner needs to decide, then
// the buttons, or once decided the decision and the Open button alone.
func reviewBlocks(p review.Packet, page, decided string) []slackapi.Block {
	mrkdwn := func(s string) *slackapi.TextBlockObject {
		return slackapi.NewTextBlockObject(slackapi.MarkdownType, clip(s, 2000), false, false)
	}
	name := cmp.Or(p.AccountName, p.AccountID)
	cause := "(the drafts are being written)"
	if p.Draft != nil {
		cause = cmp.Or(strings.TrimSpace(p.Draft.SuspectedCause), "(none suggested)")
	}
	blocks := []slackapi.Block{
		slackapi.NewHeaderBlock(slackapi.NewTextBlockObject(slackapi.PlainTextType, clip(fmt.Sprintf("%s is %s", name, p.Assessment.Tier), 150), false, false)),
		slackapi.NewSectionBlock(nil, []*slackapi.TextBlockObject{
			mrkdwn("*Account*\n" + escape(name) + " (" + escape(p.AccountID) + ")"),
			mrkdwn("*Tier*\n" + escape(string(p.Assessment.Tier))),
			mrkdwn(fmt.Sprintf("*Score*\n%d / 100", p.Assessment.Score)),
		}, nil),
		slackapi.NewSectionBlock(mrkdwn("*Why now*\n"+escape(cmp.Or(p.Event, "(not recorded)"))), nil, nil),
		slackapi.NewSectionBlock(mrkdwn("*Suspected cause*\n"+escape(cause)), nil, nil),
	}
	open := slackapi.NewButtonBlockElement(actionOpen, p.ReviewID, slackapi.NewTextBlockObject(slackapi.PlainTextType, "Open", false, false)).WithURL(page)
	if decided != "" {
		return append(blocks,
			slackapi.NewContextBlock("decision", mrkdwn(decided)),
			slackapi.NewActionBlock("review", open))
	}
	approve := slackapi.NewButtonBlockElement(actionApprove, p.ReviewID, slackapi.NewTextBlockObject(slackapi.PlainTextType, "Approve", false, false)).WithStyle(slackapi.StylePrimary)
	reject := slackapi.NewButtonBlockElement(actionReject, p.ReviewID, slackapi.NewTextBlockObject(slackapi.PlainTextType, "Reject", false, false)).WithStyle(slackapi.StyleDanger)
	return append(blocks, slackapi.NewActionBlock("review", approve, reject, open))
}

// escape makes text safe inside Slack's mrkdwn: account names and causes
// come from customer data and must not become links or mentions.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// clip keeps s within Slack's limit of n characters for a text object.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
