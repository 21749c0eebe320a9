package draft

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// CallError is a failed call to the LLM endpoint, with what the caller needs
// to decide between retrying and falling back.
type CallError struct {
	Model      string
	StatusCode int           // 0 when no HTTP answer came back
	RetryAfter time.Duration // from the Retry-After header, when sent
	Err        error
	apiKey     string // scrubbed from the message
}

// Error says what failed with the API key and any bearer token taken out:
// an endpoint or proxy may echo them, and the message is kept in the
// workflow's history. Err itself is not scrubbed; the activity passes on
// the message only.
func (e *CallError) Error() string {
	if e.StatusCode != 0 {
		return ScrubSecrets(fmt.Sprintf("draft: llm %s: status %d: %v", e.Model, e.StatusCode, e.Err), e.apiKey)
	}
	return ScrubSecrets(fmt.Sprintf("draft: llm %s: %v", e.Model, e.Err), e.apiKey)
}

var secretREs = []*regexp.Regexp{
	regexp.MustCompile(`(?i)(\bbearer\s+)[^\s"',;]+`),
	regexp.MustCompile(`(?i)(\b(?:api[-_]?key|authorization|x-api-key)["']?\s*[:=]\s*["']?)[^\s"',;&]+`),
	regexp.MustCompile(`()\bsk-[A-Za-z0-9_\-]{8,}`), // OpenAI-style keys
}

// ScrubSecrets takes out of s each of the secrets given, bearer tokens,
// api_key=… or Authorization: … values, and OpenAI-style keys, so that an
// error can be logged or kept in workflow history.
func ScrubSecrets(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec = strings.TrimSpace(sec); len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	for _, re := range secretREs {
		s = re.ReplaceAllString(s, "${1}[REDACTED]")
	}
	return s
}

func (e *CallError) Unwrap() error { return e.Err }

// OutputError is an answer that came back but is not a usable draft: not
// JSON, or JSON that breaks the schema. It is neither transient nor
// permanent: Guarded asks once more with the problems, then falls back.
type OutputError struct {
	Problems   []string
	Raw        string // the answer as received (PII redacted)
	TokensUsed int
}

func (e *OutputError) Error() string {
	return "draft: llm answer is not a valid draft: " + strings.Join(e.Problems, "; ")
}

// ErrConfig marks a drafter configuration that can never work (no model,
// bad redaction pattern); retrying does not help.
var ErrConfig = errors.New("draft: invalid llm configuration")

// statusCode finds the HTTP status of an LLM error, 0 when there is none.
func statusCode(err error) int {
	var ce *CallError
	if errors.As(err, &ce) && ce.StatusCode != 0 {
		return ce.StatusCode
	}
	var ae *openai.APIError
	if errors.As(err, &ae) {
		return ae.HTTPStatusCode
	}
	var re *openai.RequestError
	if errors.As(err, &re) {
		return re.HTTPStatusCode
	}
	return 0
}

// RetryAfter reports how long the endpoint asked the caller to wait: ok is
// true for a 429 or 503 answer that carried a Retry-After header. The
// activity can hand the delay to Temporal as the next retry delay.
func RetryAfter(err error) (time.Duration, bool) {
	var ce *CallError
	if errors.As(err, &ce) && ce.RetryAfter > 0 &&
		(ce.StatusCode == http.StatusTooManyRequests || ce.StatusCode == http.StatusServiceUnavailable) {
		return ce.RetryAfter, true
	}
	return 0, false
}

// IsPermanent reports whether retrying err cannot help: a bad key (401,
// 403), a bad request or unknown model (400, 404, 422), an exhausted quota
// (429 insufficient_quota), or a configuration error. Callers fall back to
// the offline draft at once.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrConfig) {
		return true
	}
	var ae *openai.APIError
	if errors.As(err, &ae) && ae.HTTPStatusCode == http.StatusTooManyRequests {
		if code, _ := ae.Code.(string); code == "insufficient_quota" || ae.Type == "insufficient_quota" {
			return true
		}
	}
	switch statusCode(err) {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden,
		http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusUnprocessableEntity:
		return true
	}
	return false
}

// IsTransient reports whether the same call may succeed later: rate limits,
// server errors, timeouts, refused or dropped connections. Guarded returns
// these to its caller so the Temporal activity is retried.
func IsTransient(err error) bool {
	if err == nil || IsPermanent(err) {
		return false
	}
	switch code := statusCode(err); {
	case code == http.StatusRequestTimeout, code == http.StatusConflict, code == http.StatusTooManyRequests, code >= 500:
		return true
	case code != 0:
		return false
	}
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &ne) && ne.Timeout() ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF)
}

// parseRetryAfter reads a Retry-After header: seconds, or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs > 0 {
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// retryHeader carries the Retry-After of a call from the HTTP transport,
// which sees the headers, back to the drafter, which sees only go-openai's
// error. One is put in each call's context.
type retryHeader struct{ after time.Duration }

type retryHeaderKey struct{}

type headerTransport struct{ base http.RoundTripper }

func (t headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err == nil && resp.StatusCode >= 400 {
		if h, ok := req.Context().Value(retryHeaderKey{}).(*retryHeader); ok {
			h.after = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
			if h.after == 0 {
				// Some servers (OpenAI among them) send the delay in milliseconds.
				if ms, err := strconv.ParseFloat(resp.Header.Get("Retry-After-Ms"), 64); err == nil && ms > 0 {
					h.after = time.Duration(ms * float64(time.Millisecond))
				}
			}
		}
	}
	return resp, err
}
