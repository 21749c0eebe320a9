package digest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/identity"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/store"
)

var now = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

func openStore(t testing.TB) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func addUsers(t testing.TB, st store.Store, users ...identity.User) {
	t.Helper()
	for _, u := range users {
		if err := st.AddUser(context.Background(), u, ""); err != nil {
			t.Fatal(err)
		}
	}
}

// addReview stores a review of account id owned by owner: urgency ranks
// it, sla (hours after created) makes it due, 0 = no assessment yet.
func addReview(t testing.TB, st store.Store, id, owner, cycle string, state review.State, urgency float64, created time.Time, sla int) {
	t.Helper()
	a := risk.Assessment{AccountID: id, AccountName: "Account " + id, Owner: owner, AsOf: cycle, Tier: risk.Elevated, Score: 60,
		Urgency: urgency, SLAHours: sla}
	if sla == 48 {
		a.Tier, a.Score = risk.Critical, 85
	}
	p := review.Packet{ReviewID: review.ID(id, cycle), AccountID: id, AccountName: a.AccountName, Owner: owner, Cycle: cycle,
		State: state, Severity: a.Tier, Assessment: a, CreatedAt: created, UpdatedAt: created}
	if err := st.SavePacket(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

// team is a book of reviews in every situation the digest tells apart.
func team(t testing.TB) store.Store {
	st := openStore(t)
	addUsers(t, st,
		identity.User{Name: "dana", Role: identity.CSM, Manager: "mia", Email: "dana@example.com"},
		identity.User{Name: "sam", Role: identity.CSM, Manager: "mia"}, // no email: no digest
		identity.User{Name: "ole", Role: identity.CSM, Email: "ole@example.com"},
		identity.User{Name: "mia", Role: identity.Manager, Email: "mia@example.com"},
		identity.User{Name: "lee", Role: identity.Leader, Email: "lee@example.com"},
		identity.User{Name: "cara", Role: identity.CSM, Email: "cara@example.com"}, // nothing waits on her
		identity.User{Name: "dis", Role: identity.CSM, Email: "dis@example.com", Disabled: true},
		identity.User{Name: "kim", Role: identity.CSM, Email: "kim@example.com"}, // a leader by config
	)
	week := "2026-11-16"
	addReview(t, st, "A-1", "dana", week, review.AwaitingApproval, 50, now.Add(-72*time.Hour), 48) // overdue by a day
	addReview(t, st, "A-2", "dana", week, review.AwaitingApproval, 90, now.Add(-24*time.Hour), 168)
	addReview(t, st, "A-3", "dana", week, review.Approved, 99, now.Add(-24*time.Hour), 168) // decided: not waiting
	addReview(t, st, "A-4", "dana", "2026-11-09", review.AwaitingApproval, 10, now.Add(-240*time.Hour), 168)
	addReview(t, st, "S-1", "sam", week, review.Drafting, 70, now, 0)
	addReview(t, st, "O-1", "ole", week, review.AwaitingApproval, 60, now.Add(-time.Hour), 168)
	addReview(t, st, "D-1", "dis", week, review.AwaitingApproval, 80, now.Add(-time.Hour), 168)
	addReview(t, st, "C-1", "cara", week, review.Rejected, 80, now.Add(-time.Hour), 168)
	return st
}

func accounts(d Digest) []string {
	var out []string
	for _, r := range d.Rows {
		out = append(out, r.AccountID)
	}
	return out
}

func TestEachPersonGetsTheirQueueMostUrgentFirst(t *testing.T) {
	st := team(t)
	ds, err := Build(context.Background(), st, Options{
		Leaders: []string{"kim"}, Managers: map[string]string{"ole": "mia"},
		PagesURL: "https://cw.example.com/", Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, d := range ds {
		got[d.User.Name] = accounts(d)
		if d.Message.ToAddress != d.User.Email || d.Waiting != len(d.Rows) {
			t.Errorf("%s: to %q, waiting %d, listed %d", d.User.Name, d.Message.ToAddress, d.Waiting, len(d.Rows))
		}
	}
	everything := []string{"A-2", "D-1", "S-1", "O-1", "A-1", "A-4"}
	want := map[string][]string{
		"dana": {"A-2", "A-1", "A-4"},
		"mia":  {"A-2", "S-1", "O-1", "A-1", "A-4"}, // her team by the record (dana, sam) and by config (ole)
		"ole":  {"O-1"},
		"lee":  everything,
		"kim":  everything,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("digests:\n got %v\nwant %v", got, want)
	}

	dana := ds[slices.IndexFunc(ds, func(d Digest) bool { return d.User.Name == "dana" })]
	body := dana.Message.Body
	for _, line := range []string{
		"3 reviews wait for a decision, most urgent first (2 overdue):",
		"1. Account A-2 (A-2): elevated, score 60\n   due Thu 2026-11-26 09:00 UTC (in 6d 0h)\n   https://cw.example.com/review/A-2/2026-11-16\n",
		"2. Account A-1 (A-1): critical, score 85\n   OVERDUE: was due Thu 2026-11-19 09:00 UTC (1d 0h ago)\n   https://cw.example.com/review/A-1/2026-11-16\n",
		"https://cw.example.com/review/A-4/2026-11-09",
	} {
		if !strings.Contains(body, line) {
			t.Errorf("dana's digest lacks %q:\n%s", line, body)
		}
	}
	if dana.Overdue != 2 || dana.Message.Subject != "Churnwatch: 3 reviews wait for your decision, 2 overdue" {
		t.Errorf("overdue %d, subject %q", dana.Overdue, dana.Message.Subject)
	}
	mia := ds[slices.IndexFunc(ds, func(d Digest) bool { return d.User.Name == "mia" })]
	if !strings.Contains(mia.Message.Body, "Account S-1 (S-1): elevated, score 60, owner sam\n   no due time yet") {
		t.Errorf("mia's digest names no owner or due time of sam's drafting review:\n%s", mia.Message.Body)
	}
}

func TestACycleAndTheTimeZone(t *testing.T) {
	st := team(t)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := Build(context.Background(), st, Options{Cycle: "2026-11-09", Now: now, Location: paris})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range ds {
		names = append(names, d.User.Name+":"+strings.Join(accounts(d), ","))
	}
	if fmt.Sprint(names) != "[dana:A-4 lee:A-4 mia:A-4]" {
		t.Errorf("digests of cycle 2026-11-09: %v", names)
	}
	if body := ds[0].Message.Body; !strings.Contains(body, "OVERDUE: was due Tue 2026-11-17 10:00 CET (3d 0h ago)\n   /review/A-4/2026-11-09\n") {
		t.Errorf("due time in Paris, link without pages URL:\n%s", body)
	}
}

func TestALongQueueListsTheMostUrgent(t *testing.T) {
	st := openStore(t)
	addUsers(t, st, identity.User{Name: "lee", Role: identity.Leader, Email: "lee@example.com"})
	for i := range MaxListed + 3 {
		addReview(t, st, fmt.Sprintf("L-%02d", i), "dana", "2026-11-16", review.AwaitingApproval, float64(i), now, 168)
	}
	ds, err := Build(context.Background(), st, Options{PagesURL: "https://cw.example.com", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Waiting != MaxListed+3 || len(ds[0].Rows) != MaxListed || ds[0].Rows[0].AccountID != fmt.Sprintf("L-%02d", MaxListed+2) {
		t.Fatalf("got %+v", ds)
	}
	if !strings.Contains(ds[0].Message.Body, "... and 3 more in your inbox on the review pages: https://cw.example.com/\n") {
		t.Errorf("body:\n%s", ds[0].Message.Body)
	}
}

func TestNobodyToWrite(t *testing.T) {
	st := openStore(t)
	addUsers(t, st, identity.User{Name: "lee", Role: identity.Leader, Email: "lee@example.com"})
	ds, err := Build(context.Background(), st, Options{Now: now})
	if err != nil || len(ds) != 0 {
		t.Errorf("an empty queue: %v %v", ds, err)
	}
}
