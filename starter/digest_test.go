package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/identity"
	"github.com/churnwatch/churnwatch/mail/mailpit"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/store"
)

// TestDigestSend sends the digest through a real SMTP server and reads
// what each person received: a CSM their own reviews, a manager also the
// team's, a leader every one, each linked to its page; nobody without a
// waiting review or an email gets one.
func TestDigestSend(t *testing.T) {
	mp := mailpit.Start(t, mailpit.Options{})
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "churnwatch.yaml")
	cfg := fmt.Sprintf("notify:\n  pages_url: https://cw.example.com/\n  smtp:\n    addr: %s\n    from: Churnwatch <churnwatch@example.com>\n    starttls: false\n", mp.SMTPAddr)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	fillDigestRecord(t, dir)

	stdout, stderr, code := runStarter("digest", "send", "--config", cfgFile, "--data-dir", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, line := range []string{"sent to dana <dana@example.com>: 2 waiting, 1 overdue\n", "sent to mia <mia@example.com>: 3 waiting, 1 overdue\n",
		"sent to lee <lee@example.com>: 4 waiting, 1 overdue\n", "3 of 3 digests sent\n"} {
		if !strings.Contains(stdout, line) {
			t.Errorf("stdout lacks %q:\n%s", line, stdout)
		}
	}

	link := regexp.MustCompile(`https://cw\.example\.com/review/([^/\s]+)/2026-11-16\r?\n`)
	got := map[string][]string{}
	for _, m := range mp.Messages(t) {
		for _, to := range m.To {
			for _, l := range link.FindAllStringSubmatch(m.Text, -1) {
				got[to.Address] = append(got[to.Address], l[1])
			}
		}
	}
	want := map[string][]string{
		"dana@example.com": {"A-2", "A-1"},
		"mia@example.com":  {"A-2", "S-1", "A-1"},
		"lee@example.com":  {"A-2", "O-1", "S-1", "A-1"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("linked reviews by recipient:\n got %v\nwant %v", got, want)
	}

	// One week only: the reviews of an older cycle are left out.
	stdout, _, code = runStarter("digest", "send", "--config", cfgFile, "--data-dir", dir, "--week", "2026-11-04")
	if code != 0 || !strings.Contains(stdout, "0 of 0 digests sent") {
		t.Errorf("--week of no reviews: exit %d\n%s", code, stdout)
	}
}

func TestDigestSendRefusals(t *testing.T) {
	dir := t.TempDir()
	if _, stderr, code := runStarter("digest", "send", "--data-dir", dir); code != 1 || !strings.Contains(stderr, "email is off: set notify.smtp.addr") {
		t.Errorf("email off: exit %d, %s", code, stderr)
	}
	if _, stderr, code := runStarter("digest", "send", "--data-dir", dir, "--week", "16/11/2026"); code != 2 || !strings.Contains(stderr, "is not a YYYY-MM-DD date") {
		t.Errorf("a bad week: exit %d, %s", code, stderr)
	}
	for _, args := range [][]string{{"digest", "send", "--help"}, {"help", "digest", "send"}} {
		if out, _, code := runStarter(args...); code != 0 || !strings.Contains(out, "usage: starter digest send [--week YYYY-MM-DD]") || !strings.Contains(out, "--week string") {
			t.Errorf("%v: exit %d\n%s", args, code, out)
		}
	}
}

// fillDigestRecord stores a team in the record in dir: dana and sam work
// for mia, ole for nobody, lee leads; sam has no email, cara has nothing
// waiting.
func fillDigestRecord(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, u := range []identity.User{
		{Name: "dana", Role: identity.CSM, Manager: "mia", Email: "dana@example.com"},
		{Name: "sam", Role: identity.CSM, Manager: "mia"},
		{Name: "ole", Role: identity.CSM},
		{Name: "cara", Role: identity.CSM, Email: "cara@example.com"},
		{Name: "mia", Role: identity.Manager, Email: "mia@example.com"},
		{Name: "lee", Role: identity.Leader, Email: "lee@example.com"},
	} {
		if err := st.AddUser(ctx, u, ""); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	for _, r := range []struct {
		id, owner string
		state     review.State
		urgency   float64
		age       time.Duration
	}{
		{"A-1", "dana", review.AwaitingApproval, 10, 72 * time.Hour}, // overdue
		{"A-2", "dana", review.AwaitingApproval, 90, time.Hour},
		{"A-3", "dana", review.Approved, 99, time.Hour},
		{"S-1", "sam", review.Drafting, 20, time.Hour},
		{"O-1", "ole", review.AwaitingApproval, 50, time.Hour},
		{"C-1", "cara", review.Closed, 50, time.Hour},
	} {
		a := risk.Assessment{AccountID: r.id, AccountName: "Account " + r.id, Owner: r.owner, Tier: risk.Critical, Score: 80, Urgency: r.urgency, SLAHours: 48}
		p := review.Packet{ReviewID: review.ID(r.id, "2026-11-16"), AccountID: r.id, AccountName: a.AccountName, Owner: r.owner, Cycle: "2026-11-16",
			State: r.state, Severity: a.Tier, Assessment: a, CreatedAt: now.Add(-r.age), UpdatedAt: now.Add(-r.age)}
		if err := st.SavePacket(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
}
