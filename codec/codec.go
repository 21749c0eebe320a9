// Package codec encrypts what Churnwatch keeps in Temporal: every payload
// (scan inputs, evidence with its notes, drafts, decisions) is sealed with
// AES-256-GCM before it leaves the process, so the Temporal server's
// database, its backups and anyone reading history through the server hold
// only ciphertext. The same codec is served over HTTP (Handler) for the
// Temporal Web UI, which asks it to decode what it shows.
//
// It is optional: without a key nothing is encrypted. Payloads written
// before a key was set are still read (they are passed through), so turning
// it on needs no migration; turning it off again needs the key kept until
// the histories it sealed are gone.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

const (
	// Encoding marks a sealed payload in its metadata.
	Encoding = "binary/encrypted"
	// metaKeyID names the key that sealed a payload: a hash, never the key.
	metaKeyID = "encryption-key-id"
)

// AESGCM is a converter.PayloadCodec sealing payloads with AES-256-GCM.
type AESGCM struct {
	aead  cipher.AEAD
	keyID string
}

// New makes a codec from a key: base64 (standard or URL) or hex of 32 bytes.
func New(key string) (*AESGCM, error) {
	raw, err := parseKey(strings.TrimSpace(key))
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("payload key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("payload key: %w", err)
	}
	sum := sha256.Sum256(raw)
	return &AESGCM{aead: aead, keyID: hex.EncodeToString(sum[:8])}, nil
}

func parseKey(s string) ([]byte, error) {
	for _, dec := range []func(string) ([]byte, error){base64.StdEncoding.DecodeString, base64.URLEncoding.DecodeString, hex.DecodeString} {
		if b, err := dec(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, fmt.Errorf("payload key: want 32 bytes in base64 or hex (e.g. openssl rand -base64 32)")
}

// DataConverter is Temporal's default converter with payloads sealed by c.
func (c *AESGCM) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// Encode seals each payload, whole (its metadata too), with a fresh nonce.
func (c *AESGCM) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := p.Marshal()
		if err != nil {
			return nil, fmt.Errorf("seal payload: %w", err)
		}
		nonce := make([]byte, c.aead.NonceSize(), c.aead.NonceSize()+len(plain)+c.aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("seal payload: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{converter.MetadataEncoding: []byte(Encoding), metaKeyID: []byte(c.keyID)},
			Data:     c.aead.Seal(nonce, nonce, plain, nil),
		}
	}
	return out, nil
}

// Decode opens sealed payloads and passes the others through.
func (c *AESGCM) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != Encoding {
			out[i] = p
			continue
		}
		if id := string(p.GetMetadata()[metaKeyID]); id != c.keyID {
			return nil, fmt.Errorf("open payload: sealed with key %s, this worker has key %s", id, c.keyID)
		}
		data, n := p.GetData(), c.aead.NonceSize()
		if len(data) < n {
			return nil, fmt.Errorf("open payload: too short")
		}
		plain, err := c.aead.Open(nil, data[:n], data[n:], nil)
		if err != nil {
			return nil, fmt.Errorf("open payload: %w", err)
		}
		var q commonpb.Payload
		if err := q.Unmarshal(plain); err != nil {
			return nil, fmt.Errorf("open payload: %w", err)
		}
		out[i] = &q
	}
	return out, nil
}

// Handler serves the codec at /encode and /decode (under any prefix the
// caller strips) as the Temporal Web UI and CLI expect, answering the
// browser's CORS preflight for the UI's origin (uiOrigin, e.g.
// http://127.0.0.1:8233; empty allows none).
func Handler(c *AESGCM, uiOrigin string) http.Handler {
	inner := converter.NewPayloadCodecHTTPHandler(c)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" && origin == uiOrigin {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Allow-Credentials", "true")
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type,X-Namespace,Authorization")
			w.Header().Set("Access-Control-Allow-Methods", "POST,OPTIONS")
			w.Header().Add("Vary", "Origin")
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		inner.ServeHTTP(w, r)
	})
}
