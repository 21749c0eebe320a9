package draft

import (
	"context"
	"testing"
	"time"
)

// BenchmarkOfflineDraft measures offline drafts per second (1e9 / ns/op).
func BenchmarkOfflineDraft(b *testing.B) {
	req := enRequest(b)
	o := NewOffline()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := o.Draft(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "drafts/s")
}

// BenchmarkLLMDraftLoopback measures one guarded LLM draft against a
// loopback server answering with a recorded response: request building,
// redaction, HTTP, schema check, validation and restoration.
func BenchmarkLLMDraftLoopback(b *testing.B) {
	f := newFakeOpenAI(b, reply{file: "chat_valid.json"})
	g := NewGuarded(f.drafter(b, 5*time.Second), NewOffline(), Policy{})
	req := enRequest(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		d, err := g.Draft(ctx, req)
		if err != nil || d.Drafter == OfflineDrafter {
			b.Fatalf("draft %q err %v", d.Drafter, err)
		}
	}
}

// BenchmarkValidate measures the guardrail check alone.
func BenchmarkValidate(b *testing.B) {
	req := enRequest(b)
	d, _ := NewOffline().Draft(context.Background(), req)
	for b.Loop() {
		if p := Validate(req, d); len(p) > 0 {
			b.Fatal(p)
		}
	}
}
