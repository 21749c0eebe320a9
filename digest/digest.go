// Package digest builds each person's daily email: the reviews waiting on
// their decision, most urgent first, each with what is due and a link to
// its page. Who sees which reviews is the pages' rule (decision.Service's
// Scope): a CSM their own, a manager also their team's, leaders and admins
// every one. It is pure: it reads the decision record and returns the
// messages; package mail sends them.
package digest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/churnwatch/churnwatch/decision"
	"github.com/churnwatch/churnwatch/identity"
	"github.com/churnwatch/churnwatch/mail"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/store"
)

// MaxListed bounds the reviews one digest lists: a leader's queue can hold
// thousands, and the rest are a click away on the inbox.
const MaxListed = 50

// Options say what the digests hold.
type Options struct {
	// Leaders and Managers are the config's review.leaders and
	// review.managers, which widen what a person sees as on the pages.
	Leaders  []string
	Managers map[string]string
	// PagesURL is where the team opens the review pages; each review is
	// linked there. Empty = the page's path alone.
	PagesURL string
	// Cycle, when set (YYYY-MM-DD), keeps the reviews of that cycle only.
	Cycle string
	// Now is the time what is due is measured against; zero = time.Now.
	Now time.Time
	// Location is the time zone due times are written in
	// (schedule.time_zone); nil = UTC.
	Location *time.Location
}

// Digest is one person's daily email.
type Digest struct {
	User    identity.User
	Waiting int              // reviews waiting in the person's scope
	Overdue int              // of which past their decision's due time
	Rows    []store.QueueRow // the most urgent, at most MaxListed
	Message mail.Message
}

// Build returns a digest for every enabled user with an email and at least
// one review waiting on them, in the order of the user record.
func Build(ctx context.Context, st store.Store, o Options) ([]Digest, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	users, err := st.Users(ctx)
	if err != nil {
		return nil, fmt.Errorf("digest: %w", err)
	}
	users = slices.DeleteFunc(users, func(u identity.User) bool { return u.Disabled || strings.TrimSpace(u.Email) == "" })
	if len(users) == 0 {
		return nil, nil
	}
	// One read of the open queue, most urgent first, shared by everybody:
	// a person's list keeps the queue's order by position.
	rows, _, err := st.Queue(ctx, store.QueueFilter{States: decision.OpenStates})
	if err != nil {
		return nil, fmt.Errorf("digest: %w", err)
	}
	if o.Cycle != "" {
		rows = slices.DeleteFunc(rows, func(r store.QueueRow) bool { return r.Cycle != o.Cycle })
	}
	byOwner := map[string][]int{}
	for i, r := range rows {
		byOwner[r.Owner] = append(byOwner[r.Owner], i)
	}
	scope := &decision.Service{Store: st, Leaders: o.Leaders, Managers: o.Managers}
	var out []Digest
	for _, u := range users {
		owners, err := scope.Scope(ctx, u)
		if err != nil {
			return nil, fmt.Errorf("digest of %s: %w", u.Name, err)
		}
		d := Digest{User: u}
		for i := range visible(owners, byOwner, len(rows)) {
			r := rows[i]
			d.Waiting++
			if overdue(r, o.Now) {
				d.Overdue++
			}
			if len(d.Rows) < MaxListed {
				d.Rows = append(d.Rows, r)
			}
		}
		if d.Waiting == 0 {
			continue
		}
		d.Message = message(d, o)
		out = append(out, d)
	}
	return out, nil
}

// visible yields, in queue order, the positions of the rows owned by
// owners (nil = every row).
func visible(owners []string, byOwner map[string][]int, n int) func(yield func(int) bool) {
	return func(yield func(int) bool) {
		if owners == nil {
			for i := range n {
				if !yield(i) {
					return
				}
			}
			return
		}
		var pos []int
		for _, o := range owners {
			pos = append(pos, byOwner[o]...)
		}
		slices.Sort(pos)
		for _, i := range slices.Compact(pos) {
			if !yield(i) {
				return
			}
		}
	}
}

func overdue(r store.QueueRow, now time.Time) bool {
	return !r.DueAt.IsZero() && r.DueAt.Before(now)
}

// message writes the digest's email.
func message(d Digest, o Options) mail.Message {
	base := strings.TrimRight(o.PagesURL, "/")
	var b strings.Builder
	fmt.Fprintf(&b, "Hello %s,\n\n", d.User.Name)
	fmt.Fprintf(&b, "%s for a decision, most urgent first", count(d.Waiting, "review waits", "reviews wait"))
	if d.Overdue > 0 {
		fmt.Fprintf(&b, " (%d overdue)", d.Overdue)
	}
	b.WriteString(":\n")
	for i, r := range d.Rows {
		fmt.Fprintf(&b, "\n%d. %s (%s): %s, score %d", i+1, accountName(r), r.AccountID, r.Tier, r.Score)
		if r.Owner != d.User.Name {
			fmt.Fprintf(&b, ", owner %s", r.Owner)
		}
		fmt.Fprintf(&b, "\n   %s\n   %s%s\n", due(r, o.Now, o.Location), base, review.PagePath(r.ReviewID))
	}
	if more := d.Waiting - len(d.Rows); more > 0 {
		fmt.Fprintf(&b, "\n... and %d more in your inbox on the review pages", more)
		if base != "" {
			b.WriteString(": " + base + "/")
		}
		b.WriteString("\n")
	}
	b.WriteString("\nEach page holds the evidence, the brief, the save plan and the outreach draft.\n" +
		"Nothing reaches a customer until the review is approved.\n")
	subject := "Churnwatch: " + count(d.Waiting, "review waits", "reviews wait") + " for your decision"
	if d.Overdue > 0 {
		subject += fmt.Sprintf(", %d overdue", d.Overdue)
	}
	return mail.Message{
		ToName:    d.User.Name,
		ToAddress: d.User.Email,
		Subject:   subject,
		Body:      b.String(),
		// One digest a person a day: a resend the same day (a retried
		// activity) carries the same Message-ID.
		Key: "digest/" + d.User.Name + "/" + o.Now.In(o.Location).Format(time.DateOnly) + "/" + o.Cycle,
	}
}

func accountName(r store.QueueRow) string {
	if r.AccountName != "" {
		return r.AccountName
	}
	return r.AccountID
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// due says when the decision is due, against now, in loc.
func due(r store.QueueRow, now time.Time, loc *time.Location) string {
	if r.DueAt.IsZero() {
		return "no due time yet (the review is still drafting)"
	}
	at := r.DueAt.In(loc).Format("Mon 2006-01-02 15:04 MST")
	if overdue(r, now) {
		return "OVERDUE: was due " + at + " (" + span(now.Sub(r.DueAt)) + " ago)"
	}
	return "due " + at + " (in " + span(r.DueAt.Sub(now)) + ")"
}

// span writes a duration as days and hours, or hours and minutes under a
// day.
func span(d time.Duration) string {
	d = d.Round(time.Minute)
	if d >= 24*time.Hour {
		return fmt.Sprintf("%dd %dh", d/(24*time.Hour), d%(24*time.Hour)/time.Hour)
	}
	return fmt.Sprintf("%dh %dm", d/time.Hour, d%time.Hour/time.Minute)
}
