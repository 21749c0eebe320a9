package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/churnwatch/churnwatch/identity"
	"github.com/churnwatch/churnwatch/mail/mailpit"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/workflows"
)

// TestDailyDigestSchedule: with email on, the worker keeps a schedule that
// starts DailyDigest every day at notify.digest_time in schedule.time_zone;
// triggered, the digest reaches the CSM's mailbox through the worker's own
// activities and a real SMTP server.
func TestDailyDigestSchedule(t *testing.T) {
	mp := mailpit.Start(t, mailpit.Options{})
	cfg := testConfig(t, t.TempDir())
	cfg.Schedule.Enabled = true
	cfg.Schedule.TimeZone = "Europe/Paris"
	cfg.Notify.DigestTime = "07:30"
	cfg.Notify.PagesURL = "https://cw.example.com"
	cfg.Notify.SMTP.Addr, cfg.Notify.SMTP.From, cfg.Notify.SMTP.StartTLS = mp.SMTPAddr, "churnwatch@example.com", false

	ctx := context.Background()
	st, err := store.Open(ctx, "", cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddUser(ctx, identity.User{Name: "dana", Role: identity.CSM, Email: "dana@example.com"}, ""); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	a := risk.Assessment{AccountID: "A-1", AccountName: "Acme", Owner: "dana", Tier: risk.Critical, Score: 85, SLAHours: 48}
	if err := st.SavePacket(ctx, review.Packet{ReviewID: review.ID("A-1", "2026-11-16"), AccountID: "A-1", AccountName: "Acme", Owner: "dana",
		Cycle: "2026-11-16", State: review.AwaitingApproval, Severity: risk.Critical, Assessment: a, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	c := startWorker(t, cfg)
	h := c.ScheduleClient().GetHandle(ctx, "churnwatch-daily-digest")
	desc, err := h.Describe(ctx)
	if err != nil {
		t.Fatalf("no digest schedule: %v", err)
	}
	action, ok := desc.Schedule.Action.(*client.ScheduleWorkflowAction)
	if !ok || action.Workflow != workflows.DigestWorkflow || desc.Schedule.Spec.TimeZoneName != "Europe/Paris" {
		t.Fatalf("schedule %+v, spec %+v", desc.Schedule.Action, desc.Schedule.Spec)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	for _, next := range desc.Info.NextActionTimes {
		if at := next.In(paris); at.Hour() != 7 || at.Minute() != 30 {
			t.Errorf("next digest at %s, want 07:30 in Paris", at)
		}
	}
	if len(desc.Info.NextActionTimes) == 0 {
		t.Error("the schedule has no next run")
	}

	if err := h.Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the digest in dana's mailbox", func() bool { return len(mp.Messages(t)) > 0 })
	got := mp.Messages(t)
	if len(got) != 1 || got[0].To[0].Address != "dana@example.com" || !strings.Contains(got[0].Text, "Acme (A-1): critical, score 85") ||
		!strings.Contains(got[0].Text, "https://cw.example.com/review/A-1/2026-11-16") {
		t.Errorf("received %+v", got)
	}
}

func TestDigestCron(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	if got := digestCron(cfg); got != "" {
		t.Errorf("email off: %q", got)
	}
	cfg.Notify.SMTP.Addr, cfg.Notify.DigestTime = "smtp.example.com:587", "09:05"
	if got := digestCron(cfg); got != "5 9 * * *" {
		t.Errorf("got %q", got)
	}
}
