package draft

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// contactEmail is an account's contact_email, for the CSM's eyes only.
const contactEmail = "ana.lima@helios-contact.example"

// TestContactEmailNeverReachesTheLLM: the account's contact_email is in
// no request the OpenAI-compatible drafter sends (the request is the same
// byte for byte without it), and in no part of a draft.
func TestContactEmailNeverReachesTheLLM(t *testing.T) {
	f := newFakeOpenAI(t, reply{file: "chat_valid.json"})
	g := NewGuarded(f.drafter(t, 5*time.Second), NewOffline(), Policy{})
	with := enRequest(t)
	with.Assessment.ContactEmail = contactEmail
	for _, req := range []Request{with, enRequest(t)} {
		d, err := g.Draft(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if d.Drafter != "llm:gpt-4o-mini" {
			t.Fatalf("drafted by %s, want the LLM", d.Drafter)
		}
		noContact(t, "the LLM draft", d)
	}
	reqs := f.recorded()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	for _, leak := range []string{contactEmail, "helios-contact", "contact_email"} {
		if bytes.Contains(reqs[0].Body, []byte(leak)) {
			t.Errorf("the request carries %q", leak)
		}
	}
	if !bytes.Equal(reqs[0].Body, reqs[1].Body) {
		t.Errorf("the request differs with a contact email:\n%s\n---\n%s", reqs[0].Body, reqs[1].Body)
	}

	d, err := NewOffline().Draft(context.Background(), with)
	if err != nil {
		t.Fatal(err)
	}
	noContact(t, "the offline draft", d)
}

func noContact(t *testing.T, what string, d any) {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), contactEmail) {
		t.Errorf("%s carries the contact email: %s", what, b)
	}
}
