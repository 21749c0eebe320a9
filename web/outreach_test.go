package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/review"
)

// TestDecisionFormAsksWhereTheOutreachGoes: with notify.send_outreach on,
// the form asks for the recipient (prefilled with the account's
// contact_email) and offers "I will send it myself"; with it off, neither.
// An address that is not one address is refused before anything is decided.
func TestDecisionFormAsksWhereTheOutreachGoes(t *testing.T) {
	off := newFixture(t, defaultConfig())
	b := off.browser(t)
	b.signIn("dana")
	if _, body, _ := b.get("/review/A-1/2026-11-16"); !strings.Contains(body, `id="decision"`) || strings.Contains(body, `name="outreach_to"`) || strings.Contains(body, `name="send_myself"`) {
		t.Errorf("sending off: the form asks where the outreach goes")
	}

	cfg := defaultConfig()
	cfg.SendOutreach = true
	f := newFixture(t, cfg)
	id := review.ID("A-1", "2026-11-16")
	p, err := f.st.Packet(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	p.Assessment.ContactEmail, p.UpdatedAt = "wei.zhang@yunfan.example", time.Now().UTC()
	if err := f.st.SavePacket(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	b = f.browser(t)
	csrf := b.signIn("dana")
	_, body, _ := b.get("/review/A-1/2026-11-16")
	for _, want := range []string{`name="outreach_to" value="wei.zhang@yunfan.example"`, `type="checkbox" id="send_myself" name="send_myself"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the form lacks %q", want)
		}
	}
	if n := strings.Count(body, "wei.zhang@yunfan.example"); n != 1 {
		t.Errorf("the contact email appears %d times on the page, want once (the form field)", n)
	}
	for name, to := range map[string]string{
		"two addresses": "a@x.example, b@y.example",
		"no address":    "wei",
		"a header":      "a@x.example\r\nBcc: eve@evil.example",
	} {
		form := url.Values{"decision": {"approve"}, "csrf_token": {csrf}, "outreach_to": {to}}
		if code, out, _ := b.post("/review/A-1/2026-11-16/decision", form); code != http.StatusUnprocessableEntity || !strings.Contains(out, "outreach_to") {
			t.Errorf("%s: %d, want 422 naming outreach_to\n%.300s", name, code, out)
		}
	}
	if p, _ := f.st.Packet(context.Background(), id); p.Decision != nil {
		t.Fatalf("a refused recipient decided the review: %+v", p.Decision)
	}
}
