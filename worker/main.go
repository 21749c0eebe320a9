// Command worker runs Churnwatch's Temporal workers. With no Temporal
// address configured it first starts the embedded Temporal server (SQLite
// under the data dir) and then polls it; with an address it connects to that
// cluster and embeds nothing. GET /healthz answers 200 once it polls, GET
// /readyz once it polls and reaches Temporal and its store, and
// GET /metrics serves Prometheus (docs/operations.md).
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/churnwatch/churnwatch/activities"
	"github.com/churnwatch/churnwatch/codec"
	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/decision"
	"github.com/churnwatch/churnwatch/draft"
	"github.com/churnwatch/churnwatch/inbox"
	"github.com/churnwatch/churnwatch/mail"
	"github.com/churnwatch/churnwatch/metrics"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/slack"
	"github.com/churnwatch/churnwatch/source"
	"github.com/churnwatch/churnwatch/sso"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/telemetry"
	"github.com/churnwatch/churnwatch/temporalclient"
	"github.com/churnwatch/churnwatch/temporalserver"
	"github.com/churnwatch/churnwatch/web"
	"github.com/churnwatch/churnwatch/webhook"
	"github.com/churnwatch/churnwatch/workflows"
)

func main() {
	fs := pflag.NewFlagSet("worker", pflag.ContinueOnError)
	config.AddFlags(fs, "data-dir", "temporal-address", "temporal-port", "namespace", "http-addr", "store-dsn", "llm-base-url", "llm-model", "log-level", "temporal-ui-port")
	health := fs.Bool("healthcheck", false, "ask the worker at http.addr for GET /healthz and exit 0 if it answers 200 (for container healthchecks)")
	if code, done := parseArgs(fs, os.Args[1:], os.Stdout, os.Stderr); done {
		os.Exit(code)
	}
	cfg, err := config.Load(fs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(2)
	}
	if *health {
		os.Exit(healthcheck(cfg.HTTP.Addr, os.Stderr))
	}
	logger := newLogger(os.Stderr, cfg.Log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, logger, nil); err != nil {
		logger.Error("worker stopped", "error", err)
		os.Exit(1)
	}
}

func newLogger(w io.Writer, c config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// run starts everything and blocks until ctx is done. ready, when set, is
// called once the workers poll (tests use it).
func run(ctx context.Context, cfg config.Config, logger *slog.Logger, ready func()) error {
	// The data dir holds every account's snapshots, reviews and drafts:
	// for this user only, as is each file written in it.
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	m, err := metrics.New(logger)
	if err != nil {
		return err
	}
	defer m.Shutdown(context.WithoutCancel(ctx))
	tracing, err := telemetry.New(ctx, cfg.OTel)
	if err != nil {
		return err
	}
	defer tracing.Shutdown(context.WithoutCancel(ctx)) // last: flushes the workers' spans
	// readiness checks Temporal and the store once the workers poll; nil
	// before and after.
	var readiness atomic.Pointer[func(context.Context) error]
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	// Until the store is open the listener serves /healthz, /readyz and
	// /metrics alone; then the pages, behind their middleware, take over.
	var root atomic.Pointer[http.Handler]
	var h http.Handler = mux
	root.Store(&h)
	serve := m.HTTP(mux, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*root.Load()).ServeHTTP(w, r)
	}))
	serve = tracing.Handler(serve, func(r *http.Request) string { return metrics.Route(mux, r) })
	srvHTTP, err := serveHTTP(cfg.HTTP.Addr, serve, mux, &readiness, logger)
	if err != nil {
		return err
	}
	defer srvHTTP.Close()

	// With a payload key the Web UI decodes what it shows through the
	// pages' /codec/, as the leader signed in to them (web.Server.Codec).
	uiPort, uiCodec := 0, ""
	if cfg.Temporal.PayloadKey != "" {
		_, port, _ := net.SplitHostPort(srvHTTP.Addr)
		uiCodec = "http://" + net.JoinHostPort("127.0.0.1", port) + "/codec"
	}
	if cfg.Temporal.Address == "" {
		logger.Info("starting embedded Temporal server", "data_dir", cfg.DataDir, "port", cfg.Temporal.Port)
		srv, err := temporalserver.Start(temporalserver.Options{
			DataDir:          cfg.DataDir,
			Port:             cfg.Temporal.Port,
			Namespaces:       []string{cfg.Temporal.Namespace},
			SearchAttributes: temporalclient.SearchAttributes,
			LogLevel:         serverLogLevel(cfg.Log.Level),
			UIPort:           cfg.Temporal.UIPort,
			UIWritable:       cfg.Temporal.UIWritable,
			UICodecEndpoint:  uiCodec,
		})
		if err != nil {
			return err
		}
		defer srv.Stop()
		logger.Info("embedded Temporal server up", "address", srv.Address())
		if url, err := srv.UI(); err != nil {
			logger.Warn("Temporal Web UI not served; the worker runs on without it", "error", err)
		} else if url != "" {
			logger.Info("Temporal Web UI", "url", url)
			uiPort = cfg.Temporal.UIPort
		}
	}

	c, err := temporalclient.Dial(ctx, cfg, logger,
		temporalclient.WithMetrics(m.TemporalHandler()), temporalclient.WithInterceptors(tracing.Interceptors()...))
	if err != nil {
		return err
	}
	defer c.Close()
	if cfg.Temporal.Address != "" {
		if err := temporalclient.EnsureSearchAttributes(ctx, c, cfg.Temporal.Namespace); err != nil {
			logger.Warn("could not register search attributes; `reviews list` needs them", "error", err)
		}
	}

	st, err := store.Open(ctx, cfg.Store.DSN, cfg.DataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := m.CountReviews(st); err != nil {
		return err
	}
	pages, err := newPages(ctx, cfg, st, c, srvHTTP.Addr, logger)
	if err != nil {
		return err
	}
	pages.Decisions.Metrics = m
	if uiPort != 0 && uiCodec != "" {
		if pages.Codec, err = codec.New(cfg.Temporal.PayloadKey); err != nil {
			return fmt.Errorf("temporal.payload_key: %w", err)
		}
		pages.Config.UIPort = uiPort
		logger.Info("payload codec for the Temporal Web UI (leaders and admins)", "url", uiCodec)
	}
	h = pages.Handler(mux)
	root.Store(&h)
	go pages.CleanSessions(ctx, time.Hour)
	logger.Info("review pages", "url", "http://"+srvHTTP.Addr, "sso", cfg.Auth.OIDC.Issuer != "")
	if cfg.HTTP.APIToken != "" {
		mux.Handle("POST /api/snapshots", &inbox.Handler{
			Store:     st,
			Token:     cfg.HTTP.APIToken,
			MaxBytes:  int64(cfg.HTTP.MaxUploadMB) << 20,
			StartScan: func(ctx context.Context) (string, error) { return startScan(ctx, c, cfg) },
			Logger:    logger,
		})
		logger.Info("snapshot uploads", "url", "http://"+srvHTTP.Addr+"/api/snapshots")
	}
	if cfg.Slack.BotToken != "" {
		// Slack's buttons decide through the same service as the pages.
		mux.Handle("POST /slack/interactions", slack.NewHandler(cfg, pages.Decisions, st, logger))
		logger.Info("slack interactions", "url", "http://"+srvHTTP.Addr+"/slack/interactions")
	}

	acts, err := newActivities(cfg, st, c, logger, m)
	if err != nil {
		return err
	}
	defer drainOutbox(ctx, acts.notify)()
	defer pruneStore(ctx, st, logger)()

	w := worker.New(c, cfg.Temporal.TaskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.AccountReview, workflowOptions(workflows.ReviewWorkflow))
	w.RegisterWorkflowWithOptions(workflows.PortfolioScan, workflowOptions(workflows.ScanWorkflow))
	w.RegisterWorkflowWithOptions(workflows.LeadershipSummary, workflowOptions(workflows.SummaryWorkflow))
	w.RegisterWorkflowWithOptions(workflows.DailyDigest, workflowOptions(workflows.DigestWorkflow))
	acts.register(w)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	defer w.Stop()

	if acts.draft.LLM != nil {
		// Drafting has its own queue so the LLM's rate limit throttles only
		// drafting, across every worker of the deployment.
		llm := worker.New(c, cfg.Temporal.LLMTaskQueue, worker.Options{
			TaskQueueActivitiesPerSecond: float64(cfg.LLM.RequestsPerMinute) / 60,
		})
		// Only drafting: any other activity scheduled there by mistake
		// would wait behind the LLM's rate limit.
		llm.RegisterActivityWithOptions(acts.draft.Draft, activity.RegisterOptions{Name: workflows.ActDraft})
		if err := llm.Start(); err != nil {
			return fmt.Errorf("start LLM worker: %w", err)
		}
		defer llm.Stop()
	}

	if cfg.Schedule.Enabled {
		if err := ensureSchedules(ctx, c, cfg); err != nil {
			logger.Warn("could not set up the weekly schedules", "error", err)
		}
	}

	check := func(ctx context.Context) error { return reachable(ctx, c, st) }
	readiness.Store(&check)
	logger.Info("worker polling", "task_queue", cfg.Temporal.TaskQueue, "namespace", cfg.Temporal.Namespace, "frontend", cfg.FrontendAddress(), "http", cfg.HTTP.Addr, "drafter", drafterName(cfg))
	if ready != nil {
		ready()
	}
	<-ctx.Done()
	readiness.Store(nil)
	logger.Info("worker stopping")
	return nil
}

func workflowOptions(name string) workflow.RegisterOptions {
	return workflow.RegisterOptions{Name: name}
}

// serverLogLevel keeps the embedded server's own logs at warn or above
// unless debugging: at info it narrates every shard and queue.
func serverLogLevel(level string) string {
	if level == "debug" || level == "error" {
		return level
	}
	return "warn"
}

func drafterName(cfg config.Config) string {
	if cfg.LLM.BaseURL == "" {
		return "offline"
	}
	return "llm:" + cfg.LLM.Model + " (offline fallback)"
}

// workerActivities are the worker's activities, one struct per concern,
// each holding only what its activities use.
type workerActivities struct {
	scan   *activities.ScanActivities
	review *activities.ReviewActivities
	draft  *activities.DraftActivities
	notify *activities.NotifyActivities
	report *activities.ReportActivities
}

// register registers every activity on w, the main task queue, each under
// its method name: the names the workflows call and their histories hold.
// Draft is among them, as it always was, though reviews schedule it on the
// LLM queue.
func (a workerActivities) register(w worker.Worker) {
	w.RegisterActivity(a.scan)
	w.RegisterActivity(a.review)
	w.RegisterActivity(a.draft)
	w.RegisterActivity(a.notify)
	w.RegisterActivity(a.report)
}

// newActivities builds the worker's activities from its config.
func newActivities(cfg config.Config, st store.Store, c client.Client, logger *slog.Logger, m *metrics.Metrics) (workerActivities, error) {
	policy := cfg.Policy()
	// Only the worker says whether reviews may email the customer.
	policy.SendOutreach = cfg.Notify.SendOutreach
	scan := &activities.ScanActivities{
		Store:         st,
		Model:         cfg.Risk,
		DataDir:       cfg.DataDir,
		Policy:        &policy,
		FollowUpWeeks: cfg.Review.FollowUpWeeks,
		Temporal:      c,
		TaskQueue:     cfg.Temporal.TaskQueue,
		Logger:        logger,
		Metrics:       m,
	}
	if cfg.Source.DSN != "" {
		src, err := source.New(cfg.Source.DSN, cfg.Source.Query)
		if err != nil {
			return workerActivities{}, err
		}
		scan.Source = src
	}
	drafts, err := newDraftActivities(cfg, m)
	if err != nil {
		return workerActivities{}, err
	}
	notify := &activities.NotifyActivities{
		Store:    st,
		Mail:     mail.FromConfig(cfg.Notify),
		PagesURL: cmp.Or(cfg.Notify.PagesURL, cfg.HTTP.PublicURL),
		Policy:   &policy,
		Logger:   logger,
		Metrics:  m,
	}
	if cfg.Notify.WebhookURL != "" {
		notify.Webhook = &webhook.Poster{URL: cfg.Notify.WebhookURL, Client: &http.Client{Timeout: cfg.Notify.Timeout}}
	}
	if cfg.Slack.BotToken != "" {
		notify.Slack = slack.NewPoster(cfg, st, logger)
	}
	return workerActivities{
		scan:   scan,
		review: &activities.ReviewActivities{Store: st, Model: cfg.Risk},
		draft:  drafts,
		notify: notify,
		report: &activities.ReportActivities{Store: st, Logger: logger},
	}, nil
}

// newDraftActivities builds the drafters: the offline one always, the LLM
// (with its guardrails, falling back to the offline one) when llm.base_url
// is set.
func newDraftActivities(cfg config.Config, m *metrics.Metrics) (*activities.DraftActivities, error) {
	d := &activities.DraftActivities{
		Offline:      draft.NewOffline(),
		CSMLanguage:  cfg.LLM.CSMLanguage,
		CalendarLink: cfg.LLM.CalendarLink,
		Metrics:      m,
	}
	if cfg.LLM.BaseURL == "" {
		return d, nil
	}
	llm, err := draft.NewOpenAI(draft.OpenAIConfig{
		BaseURL:        cfg.LLM.BaseURL,
		APIKey:         cfg.LLM.APIKey,
		Model:          cfg.LLM.Model,
		Timeout:        cfg.LLM.Timeout,
		MaxTokens:      cfg.LLM.MaxTokens,
		RedactPatterns: cfg.LLM.RedactPatterns,
	})
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	d.LLM = draft.NewGuarded(llm, d.Offline, draft.Policy{
		DisabledAccounts: cfg.LLM.DisabledAccounts,
		DisabledOwners:   cfg.LLM.DisabledOwners,
	})
	return d, nil
}

// startScan starts a scan of the inbox (every pending upload, oldest
// first, so the newest stands) and returns its workflow ID.
func startScan(ctx context.Context, c client.Client, cfg config.Config) (string, error) {
	in := cfg.ScanInput(nil, "")
	in.Inbox, _ = filepath.Abs(in.Inbox)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        review.NewScanID(),
		TaskQueue: cfg.Temporal.TaskQueue,
	}, workflows.ScanWorkflow, in)
	if err != nil {
		return "", fmt.Errorf("start scan: %w", err)
	}
	return run.GetID(), nil
}

// newPages builds the team's pages and API: the decision service over the
// review workflows, sessions in the store, single sign-on when configured.
func newPages(ctx context.Context, cfg config.Config, st store.Store, c client.Client, addr string, logger *slog.Logger) (*web.Server, error) {
	s := &web.Server{
		Store: st,
		Decisions: &decision.Service{
			Temporal: c,
			Store:    st,
			Leaders:  cfg.Review.Leaders,
			Managers: cfg.Review.Managers,
			Logger:   logger,
		},
		Config: web.Config{
			PublicURL:              cfg.HTTP.PublicURL,
			ListenAddr:             addr,
			AllowedHosts:           cfg.HTTP.AllowedHosts,
			SessionLifetime:        cfg.HTTP.SessionLifetime,
			SessionIdle:            cfg.HTTP.SessionIdle,
			LoginAttemptsPerMinute: cfg.HTTP.LoginAttemptsPerMinute,
			SendOutreach:           cfg.Notify.SendOutreach,
		},
		Logger: logger,
	}
	if o := cfg.Auth.OIDC; o.Issuer != "" {
		base := cfg.HTTP.PublicURL
		if base == "" {
			base = "http://" + addr
		}
		p, err := sso.New(ctx, sso.Config{
			Issuer:        o.Issuer,
			ClientID:      o.ClientID,
			ClientSecret:  o.ClientSecret,
			RedirectURL:   strings.TrimSuffix(base, "/") + "/login/sso/callback",
			RoleClaim:     o.RoleClaim,
			UsernameClaim: o.UsernameClaim,
		})
		if err != nil {
			return nil, fmt.Errorf("auth.oidc: %w", err)
		}
		s.SSO = p
	}
	return s, nil
}

// serveHTTP serves handler, with on mux /healthz (200 once the workers
// poll, as the CLI contract says; 503 while starting or stopping) and
// /readyz (200 when ready, checked at each request: also 503 when Temporal
// or the store does not answer: send it no work).
func serveHTTP(addr string, handler http.Handler, mux *http.ServeMux, ready *atomic.Pointer[func(context.Context) error], logger *slog.Logger) (*http.Server, error) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		// The CLI contract: 200 once the worker polls. /readyz checks more.
		if ready.Load() == nil {
			http.Error(w, "starting: the workers do not poll yet", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		check := ready.Load()
		if check == nil {
			http.Error(w, "not ready: the workers do not poll", http.StatusServiceUnavailable)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := (*check)(ctx); err != nil {
			// The details (hosts, DSN errors) go to the log, not to an
			// unauthenticated caller.
			logger.Warn("not ready", "error", err)
			http.Error(w, "not ready: "+strings.SplitN(err.Error(), ":", 2)[0], http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("http.addr %s: %w", addr, err)
	}
	srv := &http.Server{
		Addr:              l.Addr().String(),
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		// Long enough for a large snapshot upload, short enough that a
		// stalled client does not hold a connection for ever.
		ReadTimeout:  10 * time.Minute,
		WriteTimeout: 10 * time.Minute,
		IdleTimeout:  2 * time.Minute,
	}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("http server", "error", err)
		}
	}()
	return srv, nil
}

// reachable says whether Temporal answers and the store takes a write.
// Errors start with what failed (temporal, store), which /readyz shows.
func reachable(ctx context.Context, c client.Client, st store.Store) error {
	if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		return fmt.Errorf("temporal: %w", err)
	}
	if err := st.Ping(ctx); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// ensureSchedules creates, or updates to the current config, the weekly
// scan of the inbox and the weekly leadership summary.
func ensureSchedules(ctx context.Context, c client.Client, cfg config.Config) error {
	if err := os.MkdirAll(cfg.InboxDir(), 0o700); err != nil {
		return fmt.Errorf("create inbox: %w", err)
	}
	scan := cfg.ScanInput(nil, "")
	scan.Inbox, _ = filepath.Abs(scan.Inbox)
	// The weekly scan reads the warehouse too, when there is one: only the
	// flag is in the schedule (and each scan's history), never the DSN.
	scan.Source = cfg.Source.DSN != ""
	specs := []struct {
		id, cron, workflow string
		arg                any
	}{
		{"churnwatch-weekly-scan", cfg.Schedule.ScanCron, workflows.ScanWorkflow, scan},
		{"churnwatch-weekly-summary", cfg.Schedule.SummaryCron, workflows.SummaryWorkflow, workflows.SummaryInput{Save: true}},
		{"churnwatch-daily-digest", digestCron(cfg), workflows.DigestWorkflow, workflows.DigestInput{TimeZone: cfg.Schedule.TimeZone}},
	}
	for _, s := range specs {
		if s.cron == "" {
			continue
		}
		if err := ensureSchedule(ctx, c, cfg, s.id, s.cron, s.workflow, s.arg); err != nil {
			return err
		}
	}
	return nil
}
