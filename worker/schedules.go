package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/churnwatch/churnwatch/config"
)

// ensureSchedule creates the schedule, or brings an existing one in line
// with the configuration, so editing the cron in config takes effect at the
// next worker start.
func ensureSchedule(ctx context.Context, c client.Client, cfg config.Config, id, cron, workflowName string, arg any) error {
	spec := client.ScheduleSpec{CronExpressions: []string{cron}, TimeZoneName: cfg.Schedule.TimeZone}
	action := &client.ScheduleWorkflowAction{
		ID:        id + "-run",
		Workflow:  workflowName,
		Args:      []any{arg},
		TaskQueue: cfg.Temporal.TaskQueue,
	}
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:      id,
		Spec:    spec,
		Action:  action,
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
	})
	if err == nil {
		return nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("create schedule %s: %w", id, err)
	}
	err = c.ScheduleClient().GetHandle(ctx, id).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := in.Description.Schedule
			s.Spec = &spec
			s.Action = action
			return &client.ScheduleUpdate{Schedule: &s}, nil
		},
	})
	if err != nil {
		return fmt.Errorf("update schedule %s: %w", id, err)
	}
	return nil
}

// digestCron is the daily digest's schedule: every day at
// notify.digest_time (in schedule.time_zone, as every schedule here), or
// "" when email is off and no digest can go out.
func digestCron(cfg config.Config) string {
	at, err := time.Parse("15:04", cfg.Notify.DigestTime)
	if cfg.Notify.SMTP.Addr == "" || err != nil { // config.Validate refuses a bad time
		return ""
	}
	return fmt.Sprintf("%d %d * * *", at.Minute(), at.Hour())
}
