// Package webhook posts the team's notices (SLA reminders, escalations,
// requests for an outcome) to a chat or automation endpoint.
//
// Each notice is one JSON POST. Its "text" line is what Slack, Mattermost
// and Rocket.Chat incoming webhooks show as they are; the notice's own
// fields ride beside it for any other receiver. The Idempotency-Key header
// is the same on every retry of one notice, so a receiver that honours it
// shows the notice once. Notices are for people inside the team: nothing
// here ever writes to a customer.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/churnwatch/churnwatch/review"
)

// Poster posts notices to one URL.
type Poster struct {
	URL    string
	Client *http.Client // nil: a client with a 10 s timeout
}

// Message is a notice as the outbox line and the POST body carry it.
type Message struct {
	Text string `json:"text"`
	review.Notice
	URL string    `json:"url,omitempty"` // the review's page, when the pages' address is known
	At  time.Time `json:"at"`
	Key string    `json:"key"` // the same on every retry of one notice
}

// NewMessage writes notice n, sent at at under idempotency key key.
// pagesURL, when set, is where the team reaches the worker's review pages
// (notify.pages_url); the message then links the review's page.
func NewMessage(n review.Notice, at time.Time, key, pagesURL string) Message {
	m := Message{Notice: n, At: at.UTC(), Key: key}
	m.Text = fmt.Sprintf("@%s %s (review %s)", n.To, n.Message, n.ReviewID)
	if pagesURL != "" {
		m.URL = strings.TrimRight(pagesURL, "/") + review.PagePath(n.ReviewID)
		m.Text += " " + m.URL
	}
	return m
}

// ErrRejected marks an answer no retry can change (a 4xx other than 408
// and 429: a revoked hook, a malformed URL path).
var ErrRejected = errors.New("webhook rejected the notice")

var defaultClient = &http.Client{Timeout: 10 * time.Second}

// Post sends m. The error wraps ErrRejected when retrying cannot help. It
// never includes the webhook's URL, which usually carries a token.
func (p *Poster) Post(ctx context.Context, m Message) error {
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, bytes.NewReader(body))
	if err != nil {
		return errors.New("webhook: the URL does not make a request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", m.Key)
	client := p.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		// *url.Error quotes the URL; keep only what went wrong.
		if uerr, ok := errors.AsType[*url.Error](err); ok {
			err = uerr.Err
		}
		return fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return nil
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return fmt.Errorf("webhook answered %s: %s", resp.Status, bytes.TrimSpace(answer))
	default:
		return fmt.Errorf("%w: %s: %s", ErrRejected, resp.Status, bytes.TrimSpace(answer))
	}
}
