package activities

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/churnwatch/churnwatch/mail"
	"github.com/churnwatch/churnwatch/slack"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/webhook"
)

// Delivery bounds. A notice is tried DefaultNoticeAttempts times, the
// wait doubling from DefaultNoticeRetry: 30 s, 1, 2, 4, 8, 16 and 32 min,
// so a channel that is down for up to an hour loses nothing, and a notice
// that still cannot go out is marked failed, visibly, not retried for ever.
const (
	DefaultNoticeAttempts = 8
	DefaultNoticeRetry    = 30 * time.Second
	// defaultDeliveryTimeout bounds one attempt at one notice over all its
	// channels (each also has its own: notify.timeout, Slack's 10 s and
	// draft wait, the SMTP timeout). The lease is twice this.
	defaultDeliveryTimeout = 90 * time.Second
	// defaultNoticePoll is how often the drainer looks for retries that
	// came due and for notices another replica queued; a notice queued in
	// this process wakes it at once.
	defaultNoticePoll = 15 * time.Second
	// defaultNoticeBatch is how many notices one pass claims and delivers
	// at once: a channel that answers slowly holds up a batch, not the
	// whole outbox.
	defaultNoticeBatch = 8
)

// Deliverer drains the outbox of notices (store.Outbox) to the webhook,
// Slack and email its NotifyActivities are configured with. The Notify
// activity only appends to the outbox, so no review waits on a channel; the
// Deliverer claims due notices under a lease, so two worker replicas never
// deliver one notice at once, and records per channel what went out, so a
// retry never posts twice where the notice already arrived.
//
// It runs in the worker process beside the activity workers rather than
// as a scheduled workflow: it wakes the moment a notice is queued (a
// drafts-ready notice reaches Slack within seconds, where a Schedule
// ticks each minute at best), and its retries cost no workflow history.
type Deliverer struct {
	acts *NotifyActivities
	// Owner names this drainer's leases: unique per process.
	Owner       string
	MaxAttempts int
	FirstRetry  time.Duration
	Timeout     time.Duration // one attempt at one notice; the lease is twice this
	Poll        time.Duration
	Batch       int
	wake        chan struct{}
}

// NewDeliverer drains the outbox of a's store through a's channels, with
// the default bounds.
func NewDeliverer(a *NotifyActivities) *Deliverer {
	host, _ := os.Hostname()
	return &Deliverer{
		acts:        a,
		Owner:       fmt.Sprintf("%s/%d/%s", cmp.Or(host, "worker"), os.Getpid(), uuid.NewString()[:8]),
		MaxAttempts: DefaultNoticeAttempts,
		FirstRetry:  DefaultNoticeRetry,
		Timeout:     defaultDeliveryTimeout,
		Poll:        defaultNoticePoll,
		Batch:       defaultNoticeBatch,
		wake:        make(chan struct{}, 1),
	}
}

// Wake makes Run look at the outbox now: a notice was queued.
func (d *Deliverer) Wake() {
	select {
	case d.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// Run delivers due notices until ctx ends.
func (d *Deliverer) Run(ctx context.Context) {
	for {
		n, err := d.DeliverDue(ctx)
		if err != nil && ctx.Err() == nil {
			logOr(d.acts.Logger).Warn("notice outbox", "error", err)
		}
		if err == nil && n == d.Batch {
			continue // a full batch: more may be due
		}
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-time.After(d.Poll):
		}
	}
}

// DeliverDue claims the notices due now, up to a batch, delivers them
// side by side and records each outcome. It returns how many it claimed.
func (d *Deliverer) DeliverDue(ctx context.Context) (int, error) {
	claimed, err := d.acts.Store.ClaimNotices(ctx, d.Owner, time.Now(), 2*d.Timeout, d.Batch)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, n := range claimed {
		wg.Go(func() { d.deliver(ctx, n) })
	}
	wg.Wait()
	return len(claimed), nil
}

// noticeChannel is one way a notice reaches people.
type noticeChannel struct {
	name string
	send func(ctx context.Context, m webhook.Message) error
}

// channels are the configured channels, in the order they are tried.
func (d *Deliverer) channels() []noticeChannel {
	a := d.acts
	var out []noticeChannel
	if a.Webhook != nil {
		out = append(out, noticeChannel{"webhook", a.Webhook.Post})
	}
	if a.Slack != nil {
		out = append(out, noticeChannel{"slack", func(ctx context.Context, m webhook.Message) error { return a.notifySlack(ctx, m.Notice) }})
	}
	if a.Mail != nil {
		out = append(out, noticeChannel{"email", a.emailNotice})
	}
	return out
}

// refused says whether a channel's answer is one no retry can change: a
// webhook's 4xx, Slack's invalid_auth or unknown user, an SMTP 5xx.
func refused(err error) bool {
	return errors.Is(err, webhook.ErrRejected) || errors.Is(err, slack.ErrRejected) || errors.Is(err, mail.ErrRejected)
}

// deliver makes one attempt at notice n on each channel it has not
// reached yet, then settles it: sent, failed, or pending until its next
// attempt.
func (d *Deliverer) deliver(ctx context.Context, n store.OutboxNotice) {
	a := d.acts
	m := webhook.NewMessage(n.Notice, n.Created, n.Key, a.PagesURL)
	if n.Channels == nil {
		n.Channels = map[string]string{}
	}
	attemptCtx, cancel := context.WithTimeout(ctx, d.Timeout)
	var problems []string
	retry := false
	for _, ch := range d.channels() {
		if n.Channels[ch.name] != "" {
			continue // reached (or refused) on an earlier attempt
		}
		err := ch.send(attemptCtx, m)
		switch {
		case err == nil:
			n.Channels[ch.name] = store.ChannelDone
		case refused(err):
			n.Channels[ch.name] = store.ChannelRefused
			problems = append(problems, err.Error())
		default:
			retry = true
			problems = append(problems, err.Error())
		}
	}
	cancel()
	if ctx.Err() != nil {
		// The worker is stopping: hand the notice back as it was, due at
		// once, for the next drainer. This attempt does not count.
		n.NextAttempt, n.State = time.Now(), store.NoticePending
		d.settle(n)
		return
	}
	n.Attempts++
	if len(problems) > 0 {
		n.LastError = strings.Join(problems, "; ")
	}
	switch {
	case retry && n.Attempts < d.MaxAttempts:
		n.State, n.NextAttempt = store.NoticePending, time.Now().Add(d.backoff(n.Attempts))
		logOr(a.Logger).Warn("notice not delivered; will retry", "key", n.Key, "to", n.To, "kind", n.Kind, "review_id", n.ReviewID,
			"attempt", n.Attempts, "of", d.MaxAttempts, "next", n.NextAttempt.Format(time.RFC3339), "error", n.LastError)
	case retry:
		n.State = store.NoticeFailed
		n.LastError = fmt.Sprintf("gave up after %d attempts: %s", n.Attempts, n.LastError)
	case hasRefusal(n.Channels):
		n.State = store.NoticeFailed
	default:
		n.State = store.NoticeSent
	}
	if !d.settle(n) {
		return
	}
	switch n.State {
	case store.NoticeSent:
		a.Metrics.Notice(n.Kind, nil)
	case store.NoticeFailed:
		a.Metrics.Notice(n.Kind, errors.New(n.LastError))
		logOr(a.Logger).Error("notice failed: it will not be retried", "key", n.Key, "to", n.To, "kind", n.Kind, "review_id", n.ReviewID,
			"attempts", n.Attempts, "channels", n.Channels, "error", n.LastError)
	}
}

// settle records n's outcome, whatever became of the drainer's context:
// the delivery happened. It reports whether this drainer still held n.
func (d *Deliverer) settle(n store.OutboxNotice) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ok, err := d.acts.Store.SettleNotice(ctx, d.Owner, n)
	if err != nil {
		// The lease runs out and the notice is tried again: a channel that
		// took it may see it twice, none loses it.
		logOr(d.acts.Logger).Warn("record the notice's delivery", "key", n.Key, "error", err)
		return false
	}
	if !ok {
		logOr(d.acts.Logger).Warn("notice's lease lost before its delivery was recorded", "key", n.Key)
	}
	return ok
}

// backoff is the wait after the attempt-th attempt: FirstRetry, doubling.
func (d *Deliverer) backoff(attempt int) time.Duration {
	return d.FirstRetry << min(attempt-1, 20)
}

func hasRefusal(channels map[string]string) bool {
	for _, v := range channels {
		if v == store.ChannelRefused {
			return true
		}
	}
	return false
}
