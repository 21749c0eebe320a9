package codec

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

const testKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // base64 of 32 bytes

func newCodec(t *testing.T, key string) *AESGCM {
	t.Helper()
	c, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSealsAndOpens(t *testing.T) {
	c := newCodec(t, testKey)
	dc := c.DataConverter()
	notes := "champion left; CFO asked about cancelling"
	p, err := dc.ToPayload(map[string]string{"notes": notes})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(p.Data, []byte("champion")) || string(p.Metadata[converter.MetadataEncoding]) != Encoding {
		t.Fatalf("payload not sealed: %q %q", p.Metadata, p.Data)
	}
	var back map[string]string
	if err := dc.FromPayload(p, &back); err != nil || back["notes"] != notes {
		t.Fatalf("opened %v, %v", back, err)
	}
	// A fresh nonce each time: the same value never seals the same.
	q, _ := dc.ToPayload(map[string]string{"notes": notes})
	if bytes.Equal(p.Data, q.Data) {
		t.Error("two seals of one value are equal")
	}
	// Another key cannot open it, and says so.
	other := newCodec(t, strings.Repeat("ab", 32))
	if err := other.DataConverter().FromPayload(p, &back); err == nil || !strings.Contains(err.Error(), "sealed with key") {
		t.Errorf("another key: %v, want refused", err)
	}
	// Payloads written before the key was set are still read.
	plain, _ := converter.GetDefaultDataConverter().ToPayload("old")
	var s string
	if err := dc.FromPayload(plain, &s); err != nil || s != "old" {
		t.Errorf("plain payload: %q, %v", s, err)
	}
}

func TestBadKeysAreRefused(t *testing.T) {
	for _, k := range []string{"", "short", strings.Repeat("a", 43)} {
		if _, err := New(k); err == nil {
			t.Errorf("New(%q) accepted", k)
		}
	}
}

// TestHandlerServesTheUI speaks the codec server protocol the Temporal Web
// UI uses: POST /decode with {"payloads": [...]} in protobuf JSON.
func TestHandlerServesTheUI(t *testing.T) {
	c := newCodec(t, testKey)
	srv := httptest.NewServer(Handler(c, "http://127.0.0.1:8233"))
	defer srv.Close()
	p, _ := c.DataConverter().ToPayload("the draft")
	body, err := json.Marshal(map[string]any{"payloads": []json.RawMessage{protoJSON(t, p)}})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/decode", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "http://127.0.0.1:8233")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Payloads []struct {
			Metadata map[string][]byte `json:"metadata"`
			Data     []byte            `json:"data"`
		} `json:"payloads"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("decode answered %d: %v", resp.StatusCode, err)
	}
	if len(out.Payloads) != 1 || string(out.Payloads[0].Data) != `"the draft"` {
		t.Errorf("decoded %+v", out.Payloads)
	}
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "http://127.0.0.1:8233" {
		t.Errorf("CORS origin %q", got)
	}

	pre, _ := http.NewRequest(http.MethodOptions, srv.URL+"/decode", nil)
	pre.Header.Set("Origin", "http://evil.example")
	resp, err = http.DefaultClient.Do(pre)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("another origin was allowed")
	}
}

func protoJSON(t *testing.T, p *commonpb.Payload) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(map[string]any{"metadata": p.Metadata, "data": p.Data})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
