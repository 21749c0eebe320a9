package activities

import (
	"context"
	"slices"
	"testing"

	"github.com/churnwatch/churnwatch/identity"
	"github.com/churnwatch/churnwatch/review"
)

// TestReviewsTakeTheWorkersPolicy: a scan's own policy (what a caller's
// config says about leaders and managers) never reaches the reviews it
// starts; the worker's config and user record do.
func TestReviewsTakeTheWorkersPolicy(t *testing.T) {
	a, _ := newActivities(t)
	ctx := context.Background()
	for _, u := range []identity.User{
		{Name: "mia", Role: identity.Manager},
		{Name: "dana", Role: identity.CSM, Manager: "mia"},
		{Name: "lee", Role: identity.Leader},
		{Name: "gone", Role: identity.Admin, Disabled: true},
	} {
		if err := a.Store.AddUser(ctx, u, ""); err != nil {
			t.Fatal(err)
		}
	}
	a.ScanActivities.Policy = &review.Policy{Leaders: []string{"cs-lead"}, Managers: map[string]string{"dana": "old-boss", "marco": "cs-lead"}, DefaultManager: "cs-lead"}
	asked := review.Policy{Leaders: []string{"mallory"}, Managers: map[string]string{"dana": "mallory"}}

	p, err := a.reviewPolicy(ctx, asked)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(p.Leaders, "mallory") || p.Managers["dana"] == "mallory" {
		t.Errorf("the caller's policy reached the review: %+v", p)
	}
	if !slices.Contains(p.Leaders, "cs-lead") || !slices.Contains(p.Leaders, "lee") || slices.Contains(p.Leaders, "gone") {
		t.Errorf("leaders %v: want the config's and the record's enabled leaders", p.Leaders)
	}
	if p.Manager("dana") != "mia" || p.Manager("marco") != "cs-lead" {
		t.Errorf("managers %v: the record's manager wins, the config's stays for others", p.Managers)
	}
	if a.ScanActivities.Policy.Managers["dana"] != "old-boss" {
		t.Errorf("the worker's own policy was modified")
	}

	a.ScanActivities.Policy = nil
	if p, _ := a.reviewPolicy(ctx, asked); !slices.Contains(p.Leaders, "mallory") {
		t.Errorf("without a worker policy the scan's stands (activities run alone in tests)")
	}
}
