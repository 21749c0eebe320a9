// Package standin is a loopback stand-in for the part of Slack that
// Churnwatch talks to, for tests (Slack itself cannot be reached from
// them): the Web API methods chat.postMessage, chat.update and views.open,
// and the response_url of an interaction, each recorded and answered as
// Slack answers; and interaction requests built and signed as Slack sends
// them.
package standin

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Call is one request the stand-in answered.
type Call struct {
	Method string         // chat.postMessage, chat.update, views.open or response_url
	Path   string         // the URL path called
	Form   url.Values     // a form-encoded call's fields
	JSON   map[string]any // a JSON call's body
	// Channel and TS are what chat.postMessage answered; ViewID is the ID
	// views.open gave the modal.
	Channel, TS, ViewID string
}

// Server is the stand-in. Its Web API base is APIURL; every method checks
// the bot token as Slack does.
type Server struct {
	*httptest.Server
	token string

	mu    sync.Mutex
	calls []Call
	seq   int
}

// New starts a stand-in that accepts token; Close stops it.
func New(token string) *Server {
	s := &Server{token: token}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// APIURL is the Web API base to configure as slack.api_url.
func (s *Server) APIURL() string { return s.URL + "/api/" }

// Calls returns the calls of method, in order.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

func (s *Server) next() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return s.seq
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c := Call{Method: strings.TrimPrefix(r.URL.Path, "/api/"), Path: r.URL.Path}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(body, &c.JSON)
	} else {
		c.Form, _ = url.ParseQuery(string(body))
	}
	if strings.HasPrefix(r.URL.Path, "/response/") {
		c.Method = "response_url"
		s.record(c)
		answer(w, map[string]any{"ok": true})
		return
	}
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if c.Form.Get("token") != s.token && token != s.token {
		answer(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	switch c.Method {
	case "chat.postMessage":
		n := s.next()
		c.Channel, c.TS = c.Form.Get("channel"), fmt.Sprintf("1700000000.%06d", n)
		if rest, ok := strings.CutPrefix(c.Channel, "U"); ok {
			c.Channel = "D" + rest // the direct message's channel
		}
		s.record(c)
		answer(w, map[string]any{"ok": true, "channel": c.Channel, "ts": c.TS, "message": map[string]any{"text": c.Form.Get("text"), "ts": c.TS}})
	case "chat.update":
		s.record(c)
		answer(w, map[string]any{"ok": true, "channel": c.Form.Get("channel"), "ts": c.Form.Get("ts"), "text": c.Form.Get("text")})
	case "views.open":
		if c.JSON["trigger_id"] == "" {
			answer(w, map[string]any{"ok": false, "error": "invalid_trigger_id"})
			return
		}
		c.ViewID = fmt.Sprintf("V%06d", s.next())
		view, _ := c.JSON["view"].(map[string]any)
		s.record(c)
		answer(w, map[string]any{"ok": true, "view": map[string]any{"id": c.ViewID, "type": "modal", "callback_id": view["callback_id"], "private_metadata": view["private_metadata"]}})
	default:
		answer(w, map[string]any{"ok": false, "error": "unknown_method"})
	}
}

func answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// Blocks are the Block Kit blocks a message call carried.
func (c Call) Blocks() []map[string]any {
	var blocks []map[string]any
	_ = json.Unmarshal([]byte(c.Form.Get("blocks")), &blocks)
	return blocks
}

// Button is a button of a message.
type Button struct {
	ActionID, Value, URL, Text, BlockID string
}

// Buttons lists the buttons of the message's actions blocks, in order.
func (c Call) Buttons() []Button {
	var out []Button
	for _, b := range c.Blocks() {
		if b["type"] != "actions" {
			continue
		}
		elements, _ := b["elements"].([]any)
		for _, e := range elements {
			m, _ := e.(map[string]any)
			text, _ := m["text"].(map[string]any)
			out = append(out, Button{ActionID: str(m["action_id"]), Value: str(m["value"]), URL: str(m["url"]), Text: str(text["text"]), BlockID: str(b["block_id"])})
		}
	}
	return out
}

func str(v any) string { s, _ := v.(string); return s }

// Click is the block_actions payload Slack sends when slackUser presses
// the button with actionID on the message posted answered.
func (s *Server) Click(slackUser string, posted Call, actionID string) map[string]any {
	n := s.next()
	action := map[string]any{"type": "button", "action_id": actionID, "action_ts": fmt.Sprintf("1700000100.%06d", n)}
	for _, b := range posted.Buttons() {
		if b.ActionID == actionID {
			action["block_id"], action["value"], action["text"] = b.BlockID, b.Value, map[string]any{"type": "plain_text", "text": b.Text}
		}
	}
	return map[string]any{
		"type":         "block_actions",
		"user":         map[string]any{"id": slackUser, "username": strings.ToLower(slackUser), "team_id": "T0CHURN"},
		"team":         map[string]any{"id": "T0CHURN", "domain": "churnwatch"},
		"api_app_id":   "A0CHURN",
		"trigger_id":   fmt.Sprintf("%d.1.trigger", n),
		"response_url": fmt.Sprintf("%s/response/%d", s.URL, n),
		"container":    map[string]any{"type": "message", "message_ts": posted.TS, "channel_id": posted.Channel, "is_ephemeral": false},
		"channel":      map[string]any{"id": posted.Channel},
		"message":      map[string]any{"type": "message", "ts": posted.TS, "text": posted.Form.Get("text")},
		"actions":      []any{action},
	}
}

// Submit is the view_submission payload Slack sends when slackUser submits
// the modal opened (a views.open call) with values typed into its inputs,
// by block ID.
func (s *Server) Submit(slackUser string, opened Call, values map[string]string) map[string]any {
	view, _ := opened.JSON["view"].(map[string]any)
	blocks, _ := view["blocks"].([]any)
	state := map[string]any{}
	for _, b := range blocks {
		m, _ := b.(map[string]any)
		element, _ := m["element"].(map[string]any)
		if m["type"] == "input" {
			id := str(m["block_id"])
			state[id] = map[string]any{str(element["action_id"]): map[string]any{"type": str(element["type"]), "value": values[id]}}
		}
	}
	return map[string]any{
		"type":       "view_submission",
		"user":       map[string]any{"id": slackUser, "username": strings.ToLower(slackUser), "team_id": "T0CHURN"},
		"team":       map[string]any{"id": "T0CHURN", "domain": "churnwatch"},
		"api_app_id": "A0CHURN",
		"trigger_id": fmt.Sprintf("%d.2.trigger", s.next()),
		"view": map[string]any{
			"id": opened.ViewID, "type": "modal", "callback_id": view["callback_id"], "private_metadata": view["private_metadata"],
			"blocks": blocks, "state": map[string]any{"values": state}, "hash": "1700000200.abcd",
		},
	}
}

// Signed is an interaction request as Slack sends it: the form body and
// its signature headers. Post sends it, as often as a test replays it.
type Signed struct {
	Body                 []byte
	Timestamp, Signature string
}

// Sign builds the request for payload, signed with secret at time at.
func Sign(secret string, payload any, at time.Time) Signed {
	js, err := json.Marshal(payload)
	if err != nil {
		panic(err)
	}
	body := []byte(url.Values{"payload": {string(js)}}.Encode())
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:%s", ts, body)
	return Signed{Body: body, Timestamp: ts, Signature: "v0=" + hex.EncodeToString(mac.Sum(nil))}
}

// Post sends the request to target and returns the answer's status and body.
func (sg Signed) Post(target string) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(sg.Body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", sg.Timestamp)
	req.Header.Set("X-Slack-Signature", sg.Signature)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out), err
}
