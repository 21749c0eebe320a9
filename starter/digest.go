package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/digest"
	"github.com/churnwatch/churnwatch/mail"
	"github.com/churnwatch/churnwatch/snapshot"
	"github.com/churnwatch/churnwatch/store"
)

// The digest's help sits beside the command while help.go's table is in
// flux; it is the same table.
func init() {
	helps["digest"] = helpText{usage: "starter digest send [flags]", examples: []string{"starter digest send"}}
	helps["digest send"] = helpText{usage: "starter digest send [--week YYYY-MM-DD]",
		about: "email now, to each user with an email and reviews waiting on them, their queue most urgent first", examples: []string{
			"starter digest send",
			"starter digest send --week 2026-11-16",
		}}
}

// runDigest sends the daily digest now, as the worker does every day at
// notify.digest_time. Like `starter users` it reads the decision record
// directly, so it works whether or not the worker runs.
func runDigest(ctx context.Context, args []string, out io.Writer) error {
	_, args, err := splitSub(args, "send")
	if err != nil {
		return err
	}
	fs := newFlagSet("digest send")
	week := fs.String("week", "", "only the reviews of this week's cycle (YYYY-MM-DD, any day of the week)")
	if err := parseFlags(fs, args); err != nil {
		return usageError(err)
	}
	if fs.NArg() != 0 {
		return usageError(fmt.Errorf("digest send takes no arguments, got %q", fs.Args()))
	}
	var cycle string
	if *week != "" {
		t, err := time.Parse(time.DateOnly, *week)
		if err != nil {
			return usageError(fmt.Errorf("--week %q is not a YYYY-MM-DD date", *week))
		}
		cycle = snapshot.Monday(t).Format(time.DateOnly)
	}
	cfg, err := config.Load(fs)
	if err != nil {
		return err
	}
	sender := mail.FromConfig(cfg.Notify)
	if sender == nil {
		return errors.New("email is off: set notify.smtp.addr and notify.smtp.from")
	}
	loc, err := time.LoadLocation(cfg.Schedule.TimeZone)
	if err != nil {
		return fmt.Errorf("schedule.time_zone: %w", err)
	}
	st, err := store.Open(ctx, cfg.Store.DSN, cfg.DataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	ds, err := digest.Build(ctx, st, digest.Options{
		Leaders:  cfg.Review.Leaders,
		Managers: cfg.Review.Managers,
		PagesURL: cmp.Or(cfg.Notify.PagesURL, cfg.HTTP.PublicURL),
		Cycle:    cycle,
		Location: loc,
	})
	if err != nil {
		return err
	}
	failed := 0
	for _, d := range ds {
		if err := sender.Send(ctx, d.Message); err != nil {
			fmt.Fprintf(stderrFrom(ctx), "not sent to %s <%s>: %v\n", d.User.Name, d.User.Email, err)
			failed++
			continue
		}
		fmt.Fprintf(out, "sent to %s <%s>: %d waiting, %d overdue\n", d.User.Name, d.User.Email, d.Waiting, d.Overdue)
	}
	fmt.Fprintf(out, "%d of %d digests sent\n", len(ds)-failed, len(ds))
	if failed > 0 {
		return fmt.Errorf("%d of %d digests not sent", failed, len(ds))
	}
	return nil
}
