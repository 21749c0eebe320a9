package slack

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	slackapi "github.com/slack-go/slack"

	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/decision"
	"github.com/churnwatch/churnwatch/identity"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/store"
)

// maxBody bounds an interaction payload; a modal's state is the largest.
const maxBody = 1 << 20

// signatureWindow is how far X-Slack-Request-Timestamp may be from now:
// the verifier refuses anything older, so a replay is remembered as long.
const signatureWindow = 5 * time.Minute

// Handler serves POST /slack/interactions: it checks Slack's signature,
// maps the Slack user to a Churnwatch user and decides through the
// decision service. It answers Slack 200 once it has acted (the decision
// is a Temporal Update that completes in well under Slack's 3 seconds),
// and 401 to a request that is not Slack's.
type Handler struct {
	decisions *decision.Service
	store     store.Store
	client    *slackapi.Client
	secret    string
	users     map[string]string // Slack user ID (upper case) → Churnwatch user
	pagesURL  string
	http      *http.Client // for response_url
	logger    *slog.Logger
	replays   replays
}

// NewHandler takes decisions from Slack for the users cfg.Slack.Users maps.
func NewHandler(cfg config.Config, decisions *decision.Service, st store.Store, logger *slog.Logger) *Handler {
	users := map[string]string{}
	for id, name := range cfg.Slack.Users {
		users[strings.ToUpper(id)] = name
	}
	return &Handler{
		decisions: decisions,
		store:     st,
		client:    newClient(cfg),
		secret:    cfg.Slack.SigningSecret,
		users:     users,
		pagesURL:  pagesURL(cfg),
		http:      &http.Client{Timeout: 10 * time.Second},
		logger:    cmp.Or(logger, slog.Default()),
		replays:   replays{seen: map[string]time.Time{}},
	}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "the request body could not be read", http.StatusRequestEntityTooLarge)
		return
	}
	if err := h.verify(r.Header, body); err != nil {
		h.logger.Warn("slack request refused", "from", r.RemoteAddr, "reason", err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	form, err := url.ParseQuery(string(body))
	var cb slackapi.InteractionCallback
	if err == nil {
		err = json.Unmarshal([]byte(form.Get("payload")), &cb)
	}
	if err != nil {
		http.Error(w, "the payload is not Slack's interaction JSON", http.StatusBadRequest)
		return
	}
	switch cb.Type {
	case slackapi.InteractionTypeBlockActions:
		h.blockAction(r.Context(), cb)
	case slackapi.InteractionTypeViewSubmission:
		if resp := h.viewSubmission(r.Context(), cb); resp != nil {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(resp)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

// verify checks the request is Slack's: signed with the signing secret, at
// most five minutes from now, and not seen before.
func (h *Handler) verify(header http.Header, body []byte) error {
	sv, err := slackapi.NewSecretsVerifier(header, h.secret)
	if errors.Is(err, slackapi.ErrExpiredTimestamp) {
		return errors.New("the request timestamp is more than 5 minutes from now")
	}
	if err != nil {
		return fmt.Errorf("the request is not signed: %w", err)
	}
	if _, err := sv.Write(body); err != nil {
		return err
	}
	if err := sv.Ensure(); err != nil {
		return errors.New("the signature does not match")
	}
	if !h.replays.first(header.Get("X-Slack-Request-Timestamp")+"/"+header.Get("X-Slack-Signature"), time.Now()) {
		return errors.New("this signed request was already received")
	}
	return nil
}

// replays remembers the (timestamp, signature) pairs of the requests taken
// while their timestamps are inside the window. It is in memory: one worker
// refuses what it saw; a replay to another worker replica, or after a
// restart, is still decided at most once by the update ID.
type replays struct {
	mu     sync.Mutex
	seen   map[string]time.Time
	pruned time.Time
}

// first records key and reports whether it is new.
func (rp *replays) first(key string, now time.Time) bool {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if now.Sub(rp.pruned) > time.Minute {
		for k, at := range rp.seen {
			if now.Sub(at) > 2*signatureWindow {
				delete(rp.seen, k)
			}
		}
		rp.pruned = now
	}
	if _, ok := rp.seen[key]; ok {
		return false
	}
	rp.seen[key] = now
	return true
}

// blockAction acts on a button: Approve decides, Reject opens the modal
// that asks why; Open is a link and needs nothing.
func (h *Handler) blockAction(ctx context.Context, cb slackapi.InteractionCallback) {
	if len(cb.ActionCallback.BlockActions) == 0 {
		return
	}
	a := cb.ActionCallback.BlockActions[0]
	if a.ActionID != actionApprove && a.ActionID != actionReject {
		return
	}
	reviewID := a.Value
	u, err := h.user(ctx, cb.User.ID, reviewID)
	if err != nil {
		h.tell(ctx, cb.ResponseURL, h.refusal(err, reviewID))
		return
	}
	if a.ActionID == actionReject {
		h.openReject(ctx, cb, u, reviewID)
		return
	}
	// Slack sends a retried click with the same action_ts: it decides once.
	id := "slack/" + cb.User.ID + "/" + cmp.Or(a.ActionTs, cb.TriggerID)
	p, err := h.decisions.Decide(ctx, u, reviewID, decision.Request{Decision: "approve"}, id)
	if err != nil {
		h.tell(ctx, cb.ResponseURL, h.refusal(err, reviewID))
		return
	}
	h.markDecided(ctx, cb.Container.ChannelID, cb.Container.MessageTs, p)
}

// rejectMeta is what the reject modal carries from the click to the
// submission: the review and the message to update.
type rejectMeta struct {
	ReviewID  string `json:"review_id"`
	Channel   string `json:"channel"`
	MessageTs string `json:"message_ts"`
}

// openReject opens the modal asking for the reason, once the user is known
// to be allowed to decide the review.
func (h *Handler) openReject(ctx context.Context, cb slackapi.InteractionCallback, u identity.User, reviewID string) {
	p, err := h.decisions.Packet(ctx, u, reviewID)
	if err != nil {
		h.tell(ctx, cb.ResponseURL, h.refusal(err, reviewID))
		return
	}
	meta, _ := json.Marshal(rejectMeta{ReviewID: reviewID, Channel: cb.Container.ChannelID, MessageTs: cb.Container.MessageTs})
	plain := func(s string) *slackapi.TextBlockObject {
		return slackapi.NewTextBlockObject(slackapi.PlainTextType, s, false, false)
	}
	input := slackapi.NewPlainTextInputBlockElement(plain("Why is this review rejected?"), reasonAction)
	input.Multiline = true
	input.MaxLength = 3000
	view := slackapi.ModalViewRequest{
		Type:            slackapi.VTModal,
		Title:           plain("Reject review"),
		Submit:          plain("Reject"),
		Close:           plain("Cancel"),
		CallbackID:      rejectCallback,
		PrivateMetadata: string(meta),
		Blocks: slackapi.Blocks{BlockSet: []slackapi.Block{
			slackapi.NewSectionBlock(slackapi.NewTextBlockObject(slackapi.MarkdownType, clip("Reject the review of *"+escape(cmp.Or(p.AccountName, p.AccountID))+"*: nothing is sent to the customer.", 3000), false, false), nil, nil),
			slackapi.NewInputBlock(reasonBlock, plain("Reason"), nil, input),
		}},
	}
	if _, err := h.client.OpenViewContext(ctx, cb.TriggerID, view); err != nil {
		h.logger.Error("slack views.open", "review_id", reviewID, "error", err)
		h.tell(ctx, cb.ResponseURL, "The reject form could not be opened; reject the review on its page instead.")
	}
}

// viewSubmission rejects the review with the modal's reason. A refusal is
// shown in the modal, under the reason, and the modal stays open; nil closes
// it.
func (h *Handler) viewSubmission(ctx context.Context, cb slackapi.InteractionCallback) *slackapi.ViewSubmissionResponse {
	if cb.View.CallbackID != rejectCallback {
		return nil
	}
	var meta rejectMeta
	if err := json.Unmarshal([]byte(cb.View.PrivateMetadata), &meta); err != nil || meta.ReviewID == "" {
		return slackapi.NewErrorsViewSubmissionResponse(map[string]string{reasonBlock: "This form does not name a review; reject it on its page."})
	}
	u, err := h.user(ctx, cb.User.ID, meta.ReviewID)
	if err != nil {
		return slackapi.NewErrorsViewSubmissionResponse(map[string]string{reasonBlock: h.refusal(err, meta.ReviewID)})
	}
	var reason string
	if cb.View.State != nil {
		reason = cb.View.State.Values[reasonBlock][reasonAction].Value
	}
	// The same submission decides once; a corrected reason is a new try.
	sum := sha256.Sum256([]byte(reason))
	id := "slack/" + cb.View.ID + "/" + hex.EncodeToString(sum[:8])
	p, err := h.decisions.Decide(ctx, u, meta.ReviewID, decision.Request{Decision: "reject", Reason: reason}, id)
	if err != nil {
		return slackapi.NewErrorsViewSubmissionResponse(map[string]string{reasonBlock: h.refusal(err, meta.ReviewID)})
	}
	h.markDecided(ctx, meta.Channel, meta.MessageTs, p)
	return nil
}

// user is the enabled Churnwatch user a Slack user is mapped to, or a 403
// refusal, recorded like any other.
func (h *Handler) user(ctx context.Context, slackID, reviewID string) (identity.User, error) {
	name := h.users[strings.ToUpper(slackID)]
	var err error
	var u identity.User
	if name == "" {
		err = &decision.Error{Status: http.StatusForbidden, Msg: "your Slack account is not linked to a Churnwatch user (slack.users)"}
	} else if u, err = h.store.User(ctx, name); errors.Is(err, store.ErrNotFound) {
		err = &decision.Error{Status: http.StatusForbidden, Msg: fmt.Sprintf("your Slack account is linked to %s, who is not a Churnwatch user", name)}
	} else if err == nil && u.Disabled {
		err = &decision.Error{Status: http.StatusForbidden, Msg: fmt.Sprintf("the Churnwatch user %s is disabled", name)}
	}
	if err == nil {
		return u, nil
	}
	if decision.StatusOf(err) >= 500 {
		return u, fmt.Errorf("look up the user %s: %w", name, err)
	}
	e := review.Event{Key: "refused/" + uuid.NewString(), ReviewID: reviewID, Kind: review.EventRefused,
		Actor: cmp.Or(name, "slack:"+slackID), At: time.Now(), Detail: fmt.Sprintf("403: slack: %v", err)}
	if _, werr := h.store.AppendEvent(ctx, e); werr != nil {
		h.logger.Warn("record refusal", "error", werr)
	}
	h.logger.Info("slack request refused", "slack_user", slackID, "review_id", reviewID, "reason", err)
	return u, err
}

// refusal says what was refused, or that the request failed; a failure is
// logged, since its detail is for the operator.
func (h *Handler) refusal(err error, reviewID string) string {
	if decision.StatusOf(err) >= 500 {
		h.logger.Error("slack decision", "review_id", reviewID, "error", err)
		return "The request failed; see the Churnwatch worker log."
	}
	return "Nothing was changed: " + err.Error()
}

// tell answers the user who clicked with a message only they see.
func (h *Handler) tell(ctx context.Context, responseURL, text string) {
	if responseURL == "" {
		return
	}
	msg := &slackapi.WebhookMessage{ResponseType: slackapi.ResponseTypeEphemeral, Text: escape(text)}
	if err := slackapi.PostWebhookCustomHTTPContext(ctx, responseURL, h.http, msg); err != nil {
		h.logger.Warn("slack response_url", "error", err)
	}
}

// markDecided replaces the review message's buttons with who decided.
func (h *Handler) markDecided(ctx context.Context, channel, ts string, p review.Packet) {
	if channel == "" || ts == "" || p.Decision == nil {
		return
	}
	d := p.Decision
	line := fmt.Sprintf("Approved by %s", d.Actor)
	switch d.Kind {
	case review.EditAndApprove:
		line = fmt.Sprintf("Approved with an edited outreach by %s", d.Actor)
	case review.Reject:
		line = fmt.Sprintf("Rejected by %s: %s", d.Actor, d.Reason)
	}
	page := h.pagesURL + review.PagePath(p.ReviewID)
	_, _, _, err := h.client.UpdateMessageContext(ctx, channel, ts,
		slackapi.MsgOptionText(escape(line), false),
		slackapi.MsgOptionBlocks(reviewBlocks(p, page, escape(line))...))
	if err != nil {
		h.logger.Warn("slack chat.update", "review_id", p.ReviewID, "error", err)
	}
}
