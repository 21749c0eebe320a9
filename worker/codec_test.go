package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"

	"github.com/churnwatch/churnwatch/codec"
)

// TestPayloadKeySealsHistory runs a scan with a payload key set: the scan
// works (its result comes back through the codec), and what the server
// keeps of its input is ciphertext, not the file's path.
func TestPayloadKeySealsHistory(t *testing.T) {
	cfg := testConfig(t, filepath.Join(t.TempDir(), "data"))
	cfg.Temporal.PayloadKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	c := startWorker(t, cfg)
	id := fmt.Sprintf("scan/codec-%d", time.Now().UnixNano())
	if res := scanWithID(t, c, cfg, id, examplePath(t)); res.Rows == 0 {
		t.Fatalf("scan through the codec read nothing: %+v", res)
	}
	it := c.GetWorkflowHistory(context.Background(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	ev, err := it.Next()
	if err != nil {
		t.Fatal(err)
	}
	payloads := ev.GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()
	if len(payloads) == 0 {
		t.Fatalf("first event %v has no input", ev.GetEventType())
	}
	for _, p := range payloads {
		if enc := string(p.GetMetadata()[converter.MetadataEncoding]); enc != codec.Encoding || strings.Contains(string(p.GetData()), "portfolio.csv") {
			t.Errorf("the scan's input is kept as %s: %.80q", enc, p.GetData())
		}
	}
}
