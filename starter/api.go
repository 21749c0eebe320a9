package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/review"
)

// apiTimeout bounds one call to the worker's API: a decision waits for the
// review workflow's update to complete, which takes well under this.
const apiTimeout = 30 * time.Second

// apiClient talks to the worker's API as the person whose token it holds.
// Through it the worker, not the CLI, says who decides: the --as of the
// Temporal path is taken on trust, a token is not.
type apiClient struct {
	base  string // server.url without a trailing slash
	token string
	http  *http.Client
}

// apiError is an answer of the API other than 2xx: its status line and the
// server's own message, which says what was wrong in the CSM's terms.
type apiError struct {
	Status  string // "403 Forbidden"
	Code    int
	Message string
}

func (e *apiError) Error() string {
	if e.Message == "" {
		return e.Status
	}
	return e.Status + ": " + e.Message
}

// newAPIClient returns a client for cfg.Server.URL; a missing token is a
// usage error, since nothing on the API answers without one.
func newAPIClient(cfg config.Config) (*apiClient, error) {
	if strings.TrimSpace(cfg.Token) == "" {
		return nil, usageError(errors.New("set CHURNWATCH_TOKEN to a token from `starter users token NAME`"))
	}
	return &apiClient{
		base:  strings.TrimRight(cfg.Server.URL, "/"),
		token: cfg.Token,
		http:  &http.Client{Timeout: apiTimeout},
	}, nil
}

// do sends one request with a JSON body (when in is not nil) and decodes a
// 2xx answer into out. idemKey, when set, is sent as Idempotency-Key so the
// worker decides once however often the request arrives.
func (c *apiClient) do(ctx context.Context, method, path string, in any, idemKey string, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%w (is the worker running at server.url?)", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return readAPIError(resp)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		// An HTML page here usually means server.url names something other
		// than the worker (a sign-in proxy, say).
		return fmt.Errorf("%s %s: the answer is not the API's JSON (is server.url the worker?): %w", method, c.base+path, err)
	}
	return nil
}

// readAPIError turns a failed answer into an apiError, keeping the server's
// {"error": "..."} message or, from something else on the way (a proxy), the
// first line of its text.
func readAPIError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &apiError{Status: resp.Status, Code: resp.StatusCode}
	var body struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &body) == nil && body.Error != "" {
		e.Message = body.Error
	} else if text := strings.TrimSpace(string(b)); text != "" && !strings.HasPrefix(text, "<") {
		first, _, _ := strings.Cut(text, "\n")
		e.Message = first
	}
	return e
}

// reviewPath is the API path of a review from its ID review/<account>/<cycle>,
// each part escaped as review.PagePath does for the page.
func reviewPath(reviewID string) (string, error) {
	rest, ok := strings.CutPrefix(reviewID, "review/")
	i := strings.LastIndexByte(rest, '/')
	if !ok || i <= 0 || i == len(rest)-1 {
		return "", usageError(fmt.Errorf("%q is not a review ID (review/<account>/<cycle>)", reviewID))
	}
	return "/api/reviews/" + url.PathEscape(rest[:i]) + "/" + url.PathEscape(rest[i+1:]), nil
}

// listReviews is `reviews list` through the API: the same items as from
// Temporal's visibility store, those the token's user may see.
func (c *apiClient) listReviews(ctx context.Context, state review.State, owner string) ([]review.Item, error) {
	q := url.Values{}
	if state != "" {
		q.Set("state", string(state))
	}
	if owner != "" {
		q.Set("owner", owner)
	}
	path := "/api/reviews"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	items := []review.Item{}
	if err := c.do(ctx, http.MethodGet, path, nil, "", &items); err != nil {
		return nil, fmt.Errorf("list reviews: %w", err)
	}
	return items, nil
}

// The request bodies of the API's POSTs (its contract).
type (
	decisionRequest struct {
		Decision string           `json:"decision"` // approve or reject
		Outreach *outreachRequest `json:"outreach,omitempty"`
		Cause    string           `json:"cause,omitempty"`
		Reason   string           `json:"reason,omitempty"`
		Note     string           `json:"note,omitempty"`
	}
	// outreachRequest is the CSM's edit of the outreach: the worker keeps
	// the draft's language, only the text is the CSM's.
	outreachRequest struct {
		Subject string `json:"subject"`
		Body    string `json:"body"`
	}
	progressRequest struct {
		Event string `json:"event"`
		Note  string `json:"note,omitempty"`
	}
	outcomeRequest struct {
		Result string `json:"result"`
		Note   string `json:"note,omitempty"`
	}
)

// reviewRequest is what sub (approve, reject, progress, outcome) posts, and
// where under the review's path.
func reviewRequest(sub string, f reviewFlags) (string, any, error) {
	switch sub {
	case "approve":
		d := decisionRequest{Decision: "approve", Cause: f.cause, Note: f.note}
		if f.editFile != "" {
			email, err := readEdit(f.editFile)
			if err != nil {
				return "", nil, err
			}
			d.Outreach = &outreachRequest{Subject: email.Subject, Body: email.Body}
		}
		return "/decision", d, nil
	case "reject":
		return "/decision", decisionRequest{Decision: "reject", Reason: f.reason, Note: f.note}, nil
	case "progress":
		return "/progress", progressRequest{Event: f.event, Note: f.note}, nil
	case "outcome":
		return "/outcome", outcomeRequest{Result: f.result, Note: f.note}, nil
	}
	return "", nil, usageError(fmt.Errorf("review %s has no API request", sub))
}

// reviewThroughAPI shows or acts on one review through the worker's API, as
// the token's user, and returns the packet the worker answers with.
func reviewThroughAPI(ctx context.Context, cfg config.Config, sub, id string, f reviewFlags) (review.Packet, error) {
	var p review.Packet
	c, err := newAPIClient(cfg)
	if err != nil {
		return p, err
	}
	path, err := reviewPath(id)
	if err != nil {
		return p, err
	}
	if f.actor != "" {
		// The worker knows who the token belongs to; a name on the command
		// line can neither add to that nor be checked against it here.
		fmt.Fprintln(stderrFrom(ctx), "--as is ignored: the API acts as the token's user")
	}
	if sub == "show" {
		if err := c.do(ctx, http.MethodGet, path, nil, "", &p); err != nil {
			return p, fmt.Errorf("review %s: %w", id, err)
		}
		return p, nil
	}
	suffix, body, err := reviewRequest(sub, f)
	if err != nil {
		return p, err
	}
	// One key per invocation: a request the network repeats decides once.
	if err := c.do(ctx, http.MethodPost, path+suffix, body, uuid.NewString(), &p); err != nil {
		return p, fmt.Errorf("review %s %s: %w", sub, id, err)
	}
	return p, nil
}

// stderrKey carries run's stderr to the commands, whose signature has only
// their output: notices for the person at the terminal go there, apart from
// results a script reads.
type stderrKey struct{}

func withStderr(ctx context.Context, w io.Writer) context.Context {
	return context.WithValue(ctx, stderrKey{}, w)
}

func stderrFrom(ctx context.Context) io.Writer {
	if w, ok := ctx.Value(stderrKey{}).(io.Writer); ok {
		return w
	}
	return os.Stderr
}
