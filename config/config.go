// Package config loads Churnwatch's one typed configuration.
//
// Precedence, highest first: command-line flags, CHURNWATCH_* environment
// variables (the key upper-cased, dots as underscores), the YAML file named by
// --config, and defaults that run fully offline on the embedded server.
// Unknown keys and invalid values are errors that name the key.
package config

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // schedule.time_zone must resolve on machines without zoneinfo

	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/workflows"
)

// EnvPrefix prefixes every environment variable Churnwatch reads.
const EnvPrefix = "CHURNWATCH"

// Config is the whole configuration.
type Config struct {
	DataDir  string   `mapstructure:"data_dir"`
	Temporal Temporal `mapstructure:"temporal"`
	HTTP     HTTP     `mapstructure:"http"`
	Store    Store    `mapstructure:"store"`
	LLM      LLM      `mapstructure:"llm"`
	Review   Review   `mapstructure:"review"`
	Schedule Schedule `mapstructure:"schedule"`
	Notify   Notify   `mapstructure:"notify"`
	Auth     Auth     `mapstructure:"auth"`
	Server   Server   `mapstructure:"server"`
	Slack    Slack    `mapstructure:"slack"`
	Source   Source   `mapstructure:"source"`
	OTel     OTel     `mapstructure:"otel"`
	// Token is the personal API token (from `starter users token`) the CLI
	// sends to the worker's API: CHURNWATCH_TOKEN.
	Token string     `mapstructure:"token"`
	Log   Log        `mapstructure:"log"`
	Risk  risk.Model `mapstructure:"risk"`
}

// Temporal says which cluster to use. An empty Address means the worker
// starts the embedded server on 127.0.0.1:Port.
type Temporal struct {
	Address   string `mapstructure:"address"`
	Namespace string `mapstructure:"namespace"`
	TaskQueue string `mapstructure:"task_queue"`
	// LLMTaskQueue carries the drafting activities alone, so their rate limit
	// does not slow the rest of the pipeline.
	LLMTaskQueue string `mapstructure:"llm_task_queue"`
	Port         int    `mapstructure:"port"`    // the embedded server's frontend port
	UIPort       int    `mapstructure:"ui_port"` // the Temporal Web UI beside the embedded server; 0 = none
	APIKey       string `mapstructure:"api_key"` // for Temporal Cloud and other API-key clusters
	TLS          TLS    `mapstructure:"tls"`
	// UIWritable lets the embedded Web UI reset, terminate, signal and
	// start workflows. Off by default: the UI has no sign-in, so it is
	// served on loopback and read-only unless an administrator says so.
	UIWritable bool `mapstructure:"ui_writable"`
	// PayloadKey (base64 of 32 bytes), when set, seals every payload with
	// AES-256-GCM before it reaches the server, so notes, evidence and drafts
	// are ciphertext in Temporal's database. Every worker and client needs it.
	PayloadKey string `mapstructure:"payload_key"`
}

// TLS configures the client's connection to a remote cluster.
type TLS struct {
	Enabled    bool   `mapstructure:"enabled"`
	CertFile   string `mapstructure:"cert_file"`
	KeyFile    string `mapstructure:"key_file"`
	CAFile     string `mapstructure:"ca_file"`
	ServerName string `mapstructure:"server_name"`
}

// HTTP is the worker's HTTP listener: /healthz, the review pages and,
// with a token, POST /api/snapshots.
type HTTP struct {
	Addr string `mapstructure:"addr"`
	// APIToken is the bearer token POST /api/snapshots requires; empty =
	// the endpoint is off.
	APIToken    string `mapstructure:"api_token"`
	MaxUploadMB int    `mapstructure:"max_upload_mb"`
	// PublicURL is where the team opens the pages (behind its proxy, say
	// https://churnwatch.example.com): session cookies are Secure when it
	// is https, its host is allowed, and single sign-on returns to it.
	PublicURL string `mapstructure:"public_url"`
	// AllowedHosts are Host headers accepted besides the listener's own
	// host, localhost and PublicURL's host (against DNS rebinding).
	AllowedHosts []string `mapstructure:"allowed_hosts"`
	// SessionLifetime bounds a sign-in; SessionIdle ends one unused that long.
	SessionLifetime time.Duration `mapstructure:"session_lifetime"`
	SessionIdle     time.Duration `mapstructure:"session_idle"`
	// LoginAttemptsPerMinute bounds sign-in attempts per client address.
	LoginAttemptsPerMinute int `mapstructure:"login_attempts_per_minute"`
}

// Auth configures how people sign in besides local passwords.
type Auth struct {
	OIDC OIDC `mapstructure:"oidc"`
}

// OIDC is single sign-on through an OpenID Connect provider (code flow
// with PKCE). An empty Issuer turns it off.
type OIDC struct {
	Issuer       string `mapstructure:"issuer"`
	ClientID     string `mapstructure:"client_id"`
	ClientSecret string `mapstructure:"client_secret"`
	// RoleClaim names the ID token claim holding the role (csm, manager,
	// leader, admin); without it the role of a local user of the same name
	// is used, and a stranger is refused.
	RoleClaim string `mapstructure:"role_claim"`
	// UsernameClaim names the claim that must equal the snapshots' owner.
	UsernameClaim string `mapstructure:"username_claim"`
}

// Server is the worker the CLI talks to for decisions, as a person.
type Server struct {
	// URL of the worker's HTTP listener; set, `starter review approve|reject|
	// progress|outcome` go through its API with Token instead of Temporal.
	URL string `mapstructure:"url"`
}

// Store selects the decision record's database.
type Store struct {
	// DSN is empty for SQLite in DataDir, or postgres://... for PostgreSQL.
	DSN string `mapstructure:"dsn"`
}

// LLM configures drafting through an OpenAI-compatible endpoint. An empty
// BaseURL selects the offline drafter.
type LLM struct {
	BaseURL           string        `mapstructure:"base_url"`
	APIKey            string        `mapstructure:"api_key"`
	Model             string        `mapstructure:"model"`
	Timeout           time.Duration `mapstructure:"timeout"`
	MaxTokens         int           `mapstructure:"max_tokens"`
	RequestsPerMinute int           `mapstructure:"requests_per_minute"`
	// DisabledAccounts and DisabledOwners are barred from LLM use: their
	// reviews are drafted offline and no data about them leaves the process.
	DisabledAccounts []string `mapstructure:"disabled_accounts"`
	DisabledOwners   []string `mapstructure:"disabled_owners"`
	// RedactPatterns are extra regular expressions redacted before a request
	// leaves the process, besides emails and phone numbers.
	RedactPatterns []string `mapstructure:"redact_patterns"`
	CSMLanguage    string   `mapstructure:"csm_language"`
	CalendarLink   string   `mapstructure:"calendar_link"`
}

// Review configures the approval gate and the follow-up.
type Review struct {
	// SLACritical and SLAElevated bound how long a decision may wait before
	// the owner is reminded; after ReminderGrace more, the manager is told.
	SLACritical   time.Duration `mapstructure:"sla_critical"`
	SLAElevated   time.Duration `mapstructure:"sla_elevated"`
	ReminderGrace time.Duration `mapstructure:"reminder_grace"`
	// JumpPoints starts a review when a score rises by at least this much
	// since the last scan, even without a tier change.
	JumpPoints int `mapstructure:"jump_points"`
	// FollowUpAfter is how long after approval the outcome is asked for.
	FollowUpAfter time.Duration `mapstructure:"follow_up_after"`
	// OutcomeReminder is how often a missing outcome is chased.
	OutcomeReminder time.Duration `mapstructure:"outcome_reminder"`
	// FollowUpWeeks is how many weeks after a rejection or a still_at_risk
	// outcome an account still elevated or critical gets a new review.
	FollowUpWeeks int `mapstructure:"follow_up_weeks"`
	// Managers maps an owner to the manager who receives escalations.
	Managers       map[string]string `mapstructure:"managers"`
	DefaultManager string            `mapstructure:"default_manager"`
	// Leaders may decide any review, besides its owner.
	Leaders []string `mapstructure:"leaders"`
	// ScanChunk is how many accounts one scoring activity handles.
	ScanChunk int `mapstructure:"scan_chunk"`
}

// Schedule configures the Temporal Schedules the worker keeps.
type Schedule struct {
	Enabled  bool   `mapstructure:"enabled"`
	ScanCron string `mapstructure:"scan_cron"`
	// Inbox is the folder the scheduled scan reads snapshot files from.
	Inbox       string `mapstructure:"inbox"`
	SummaryCron string `mapstructure:"summary_cron"`
	TimeZone    string `mapstructure:"time_zone"`
}

// Notify says where the team's notices (SLA reminders, escalations,
// outcome requests) go besides the outbox file in the data dir.
type Notify struct {
	// WebhookURL receives each notice as a JSON POST with a "text" line:
	// a Slack, Mattermost or Rocket.Chat incoming webhook, or any
	// automation endpoint. Empty = the outbox file only. It usually holds a
	// token, so it is masked like a secret.
	WebhookURL string        `mapstructure:"webhook_url"`
	Timeout    time.Duration `mapstructure:"timeout"`
	// PagesURL is the address the team opens the worker's review pages at
	// (behind its proxy, say https://churnwatch.example.com); notices link
	// their review there. Empty = no links.
	PagesURL string `mapstructure:"pages_url"`
	// SMTP sends reminders, escalations and the daily digest by email to
	// users with an email address; an empty Addr turns email off.
	SMTP SMTP `mapstructure:"smtp"`
	// DigestTime is when each user's daily digest goes out (HH:MM in
	// schedule.time_zone).
	DigestTime string `mapstructure:"digest_time"`
	// SendOutreach lets Churnwatch send an approved outreach email to the
	// customer contact through SMTP, as the approving CSM, once. Off by
	// default: nothing reaches a customer unless a team turns this on.
	SendOutreach bool `mapstructure:"send_outreach"`
}

// SMTP is the mail server notices and digests go through.
type SMTP struct {
	Addr     string `mapstructure:"addr"` // HOST:PORT
	From     string `mapstructure:"from"`
	Username string `mapstructure:"username"`
	Password string `mapstructure:"password"`
	// StartTLS requires STARTTLS before authenticating or sending.
	StartTLS bool `mapstructure:"starttls"`
}

// Slack posts reviews to their owners with Approve / Reject / Open buttons
// and takes the decisions back at /slack/interactions.
type Slack struct {
	BotToken      string `mapstructure:"bot_token"`
	SigningSecret string `mapstructure:"signing_secret"`
	// Users maps Slack user IDs to Churnwatch user names; a Slack user not
	// listed cannot decide.
	Users map[string]string `mapstructure:"users"`
	// APIURL is Slack's Web API base; tests point it at a loopback server.
	APIURL string `mapstructure:"api_url"`
}

// Source is a warehouse the weekly scan reads snapshots from, besides files.
type Source struct {
	// DSN is a postgres:// URL; empty = files only.
	DSN string `mapstructure:"dsn"`
	// Query returns rows with the snapshot format's columns.
	Query string `mapstructure:"query"`
}

// OTel exports traces over OTLP when Endpoint is set.
type OTel struct {
	Endpoint    string `mapstructure:"endpoint"` // HOST:PORT of an OTLP/gRPC collector
	Insecure    bool   `mapstructure:"insecure"`
	ServiceName string `mapstructure:"service_name"`
}

// Log configures logging.
type Log struct {
	Level  string `mapstructure:"level"`
	Format string `mapstructure:"format"` // text or json
}

// Default returns the configuration that runs offline on the embedded server.
func Default() Config {
	return Config{
		DataDir: "./.churnwatch",
		Temporal: Temporal{
			Namespace:    "default",
			TaskQueue:    "churnwatch",
			LLMTaskQueue: "churnwatch-llm",
			Port:         7233,
			UIPort:       8233,
		},
		HTTP: HTTP{
			Addr:                   "127.0.0.1:8080",
			MaxUploadMB:            256,
			AllowedHosts:           []string{},
			SessionLifetime:        12 * time.Hour,
			SessionIdle:            2 * time.Hour,
			LoginAttemptsPerMinute: 10,
		},
		Auth: Auth{OIDC: OIDC{RoleClaim: "churnwatch_role", UsernameClaim: "preferred_username"}},
		LLM: LLM{
			Timeout:           60 * time.Second,
			MaxTokens:         1500,
			RequestsPerMinute: 60,
			CSMLanguage:       "en",
			CalendarLink:      "{{calendar_link}}",
		},
		Review: Review{
			SLACritical:     48 * time.Hour,
			SLAElevated:     7 * 24 * time.Hour,
			ReminderGrace:   24 * time.Hour,
			JumpPoints:      15,
			FollowUpAfter:   14 * 24 * time.Hour,
			OutcomeReminder: 72 * time.Hour,
			FollowUpWeeks:   4,
			Managers:        map[string]string{},
			DefaultManager:  "cs-lead",
			Leaders:         []string{"cs-lead"},
			ScanChunk:       500,
		},
		Schedule: Schedule{
			Enabled:     true,
			ScanCron:    "0 6 * * MON",
			SummaryCron: "0 7 * * MON",
			TimeZone:    "UTC",
		},
		Notify: Notify{Timeout: 10 * time.Second, DigestTime: "09:00", SMTP: SMTP{StartTLS: true}},
		Slack:  Slack{Users: map[string]string{}, APIURL: "https://slack.com/api/"},
		OTel:   OTel{ServiceName: "churnwatch"},
		Log:    Log{Level: "info", Format: "text"},
		Risk:   risk.DefaultModel(),
	}
}

// Flags maps flag names to the keys they set. A command adds the ones it
// takes with AddFlags.
var Flags = map[string]string{
	"data-dir":         "data_dir",
	"temporal-address": "temporal.address",
	"namespace":        "temporal.namespace",
	"temporal-port":    "temporal.port",
	"http-addr":        "http.addr",
	"store-dsn":        "store.dsn",
	"llm-base-url":     "llm.base_url",
	"llm-model":        "llm.model",
	"log-level":        "log.level",
	"server":           "server.url",
	"temporal-ui-port": "temporal.ui_port",
}

// AddFlags adds --config and the named flags (keys of Flags) to fs.
func AddFlags(fs *pflag.FlagSet, names ...string) {
	if fs.Lookup("config") == nil {
		fs.String("config", "", "YAML config file")
	}
	def := Default()
	for _, name := range names {
		key, ok := Flags[name]
		if !ok {
			panic("config: no flag " + name)
		}
		switch v := lookup(def, key).(type) {
		case int:
			fs.Int(name, v, "sets "+key)
		default:
			fs.String(name, fmt.Sprint(v), "sets "+key)
		}
	}
}

// Load builds the configuration from defaults, the file named by --config
// (when fs has it), the environment and the flags of fs that were set.
func Load(fs *pflag.FlagSet) (Config, error) {
	v := viper.New()
	def := Default()
	keys := leafKeys(reflect.TypeOf(def), "")
	for _, key := range keys {
		v.SetDefault(key, lookup(def, key))
	}
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	if err := checkEnv(keys); err != nil {
		return Config{}, err
	}
	if fs != nil {
		if f := fs.Lookup("config"); f != nil && f.Value.String() != "" {
			v.SetConfigFile(f.Value.String())
			v.SetConfigType("yaml")
			if err := v.ReadInConfig(); err != nil {
				return Config{}, fmt.Errorf("read config file %s: %w", f.Value.String(), err)
			}
		}
		for name, key := range Flags {
			if f := fs.Lookup(name); f != nil && f.Changed {
				if err := v.BindPFlag(key, f); err != nil {
					return Config{}, fmt.Errorf("flag --%s: %w", name, err)
				}
			}
		}
	}
	var cfg Config
	if err := v.UnmarshalExact(&cfg); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// checkEnv refuses CHURNWATCH_* variables that name no key: a typo in an
// environment variable must not be silently ignored.
func checkEnv(keys []string) error {
	known := map[string]bool{}
	for _, k := range keys {
		known[envName(k)] = true
	}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		// CHURNWATCH_TEST_* variables configure the test suite, not Churnwatch.
		if !strings.HasPrefix(name, EnvPrefix+"_") || strings.HasPrefix(name, EnvPrefix+"_TEST_") || known[name] {
			continue
		}
		return fmt.Errorf("environment variable %s names no configuration key", name)
	}
	return nil
}

func envName(key string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Validate checks every value; errors name the key.
func (c Config) Validate() error {
	var errs []string
	bad := func(key, format string, args ...any) {
		errs = append(errs, key+": "+fmt.Sprintf(format, args...))
	}
	if strings.TrimSpace(c.DataDir) == "" {
		bad("data_dir", "must not be empty")
	}
	if c.Temporal.Namespace == "" {
		bad("temporal.namespace", "must not be empty")
	}
	if c.Temporal.TaskQueue == "" {
		bad("temporal.task_queue", "must not be empty")
	}
	if c.Temporal.LLMTaskQueue == "" {
		bad("temporal.llm_task_queue", "must not be empty")
	}
	if c.Temporal.Port <= 0 || c.Temporal.Port > 65535 {
		bad("temporal.port", "%d is not a TCP port", c.Temporal.Port)
	}
	if c.Temporal.UIPort < 0 || c.Temporal.UIPort > 65535 {
		bad("temporal.ui_port", "%d is not a TCP port (0 turns the Web UI off)", c.Temporal.UIPort)
	}
	if c.Temporal.Address != "" && !strings.Contains(c.Temporal.Address, ":") {
		bad("temporal.address", "%q is not HOST:PORT", c.Temporal.Address)
	}
	if (c.Temporal.TLS.CertFile == "") != (c.Temporal.TLS.KeyFile == "") {
		bad("temporal.tls.cert_file", "cert_file and key_file go together")
	}
	if c.HTTP.Addr != "" && !strings.Contains(c.HTTP.Addr, ":") {
		bad("http.addr", "%q is not HOST:PORT", c.HTTP.Addr)
	}
	if c.HTTP.MaxUploadMB <= 0 {
		bad("http.max_upload_mb", "must be positive")
	}
	if c.HTTP.APIToken != "" && len(c.HTTP.APIToken) < 16 {
		bad("http.api_token", "must be at least 16 characters (it guards an endpoint that writes)")
	}
	if c.Store.DSN != "" && !strings.HasPrefix(c.Store.DSN, "postgres://") && !strings.HasPrefix(c.Store.DSN, "postgresql://") {
		bad("store.dsn", "must be empty (SQLite in data_dir) or a postgres:// URL")
	}
	if c.LLM.BaseURL != "" {
		if u, err := url.Parse(c.LLM.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("llm.base_url", "%q is not an http(s) URL", c.LLM.BaseURL)
		}
		if c.LLM.Model == "" {
			bad("llm.model", "must be set when llm.base_url is set")
		}
	}
	if c.Notify.WebhookURL != "" {
		// The URL is not quoted back: it usually carries a token.
		if u, err := url.Parse(c.Notify.WebhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("notify.webhook_url", "is not an http(s) URL")
		}
	}
	if c.Notify.PagesURL != "" {
		if u, err := url.Parse(c.Notify.PagesURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("notify.pages_url", "%q is not an http(s) URL", c.Notify.PagesURL)
		}
	}
	for key, u := range map[string]string{"http.public_url": c.HTTP.PublicURL, "server.url": c.Server.URL, "auth.oidc.issuer": c.Auth.OIDC.Issuer} {
		if u == "" {
			continue
		}
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			bad(key, "%q is not an http(s) URL", u)
		}
	}
	if c.Auth.OIDC.Issuer != "" && c.Auth.OIDC.ClientID == "" {
		bad("auth.oidc.client_id", "must be set when auth.oidc.issuer is set")
	}
	if c.Auth.OIDC.Issuer != "" && c.Auth.OIDC.UsernameClaim == "" {
		bad("auth.oidc.username_claim", "must not be empty")
	}
	if c.HTTP.SessionLifetime <= 0 || c.HTTP.SessionIdle <= 0 {
		bad("http.session_lifetime", "session_lifetime and session_idle must be positive durations")
	}
	if c.HTTP.LoginAttemptsPerMinute <= 0 {
		bad("http.login_attempts_per_minute", "must be positive")
	}
	if _, err := time.Parse("15:04", c.Notify.DigestTime); err != nil {
		bad("notify.digest_time", "%q is not HH:MM", c.Notify.DigestTime)
	}
	if c.Notify.SMTP.Addr != "" {
		if !strings.Contains(c.Notify.SMTP.Addr, ":") {
			bad("notify.smtp.addr", "%q is not HOST:PORT", c.Notify.SMTP.Addr)
		}
		if c.Notify.SMTP.From == "" {
			bad("notify.smtp.from", "must be set when notify.smtp.addr is set")
		}
	}
	if c.Notify.SendOutreach && c.Notify.SMTP.Addr == "" {
		bad("notify.send_outreach", "needs notify.smtp.addr")
	}
	if (c.Slack.BotToken == "") != (c.Slack.SigningSecret == "") {
		bad("slack.signing_secret", "slack.bot_token and slack.signing_secret go together")
	}
	if c.Source.DSN != "" {
		if !strings.HasPrefix(c.Source.DSN, "postgres://") && !strings.HasPrefix(c.Source.DSN, "postgresql://") {
			bad("source.dsn", "must be a postgres:// URL")
		}
		if strings.TrimSpace(c.Source.Query) == "" {
			bad("source.query", "must be set when source.dsn is set")
		}
	}
	if c.Notify.Timeout <= 0 {
		bad("notify.timeout", "must be positive")
	}
	if c.LLM.Timeout <= 0 {
		bad("llm.timeout", "must be positive")
	}
	if c.LLM.RequestsPerMinute <= 0 {
		bad("llm.requests_per_minute", "must be positive")
	}
	if c.LLM.MaxTokens <= 0 {
		bad("llm.max_tokens", "must be positive")
	}
	for key, d := range map[string]time.Duration{
		"review.sla_critical":     c.Review.SLACritical,
		"review.sla_elevated":     c.Review.SLAElevated,
		"review.reminder_grace":   c.Review.ReminderGrace,
		"review.follow_up_after":  c.Review.FollowUpAfter,
		"review.outcome_reminder": c.Review.OutcomeReminder,
	} {
		if d <= 0 {
			bad(key, "must be a positive duration such as 48h")
		}
	}
	if c.Review.JumpPoints <= 0 || c.Review.JumpPoints > 100 {
		bad("review.jump_points", "%d is outside 1..100", c.Review.JumpPoints)
	}
	if c.Review.FollowUpWeeks < 1 || c.Review.FollowUpWeeks > 52 {
		bad("review.follow_up_weeks", "%d is outside 1..52", c.Review.FollowUpWeeks)
	}
	if c.Review.ScanChunk <= 0 {
		bad("review.scan_chunk", "must be positive")
	}
	if c.Review.DefaultManager == "" {
		bad("review.default_manager", "must not be empty: escalations need somebody to reach")
	}
	if _, err := time.LoadLocation(c.Schedule.TimeZone); err != nil {
		bad("schedule.time_zone", "%v", err)
	}
	if c.Schedule.Enabled && strings.TrimSpace(c.Schedule.ScanCron) == "" {
		bad("schedule.scan_cron", "must be set when schedule.enabled is true")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q is not debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "%q is not text or json", c.Log.Format)
	}
	if err := c.Risk.Validate(); err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return fmt.Errorf("invalid configuration:\n  %s", strings.Join(errs, "\n  "))
	}
	return nil
}

// Policy is the review policy scans hand to the reviews they start.
func (c Config) Policy() review.Policy {
	p := review.Policy{
		SLACritical:     c.Review.SLACritical,
		SLAElevated:     c.Review.SLAElevated,
		ReminderGrace:   c.Review.ReminderGrace,
		FollowUpAfter:   c.Review.FollowUpAfter,
		OutcomeReminder: c.Review.OutcomeReminder,
		Managers:        c.Review.Managers,
		DefaultManager:  c.Review.DefaultManager,
		Leaders:         c.Review.Leaders,
	}
	if c.LLM.BaseURL != "" {
		p.LLMTaskQueue = c.Temporal.LLMTaskQueue
	}
	return p
}

// ScanInput is the scan of files (or, with none, of the schedule's inbox)
// under this configuration.
func (c Config) ScanInput(files []string, asOf string) workflows.ScanInput {
	in := workflows.ScanInput{Files: files, AsOf: asOf, Policy: c.Policy(), JumpPoints: c.Review.JumpPoints, ChunkSize: c.Review.ScanChunk}
	if len(files) == 0 {
		in.Inbox = c.InboxDir()
	}
	return in
}

// InboxDir is the folder the scheduled scan reads.
func (c Config) InboxDir() string {
	if c.Schedule.Inbox != "" {
		return c.Schedule.Inbox
	}
	return filepath.Join(c.DataDir, "inbox")
}

// FrontendAddress is the Temporal frontend clients dial: the configured
// cluster, or the embedded server's loopback port.
func (c Config) FrontendAddress() string {
	if c.Temporal.Address != "" {
		return c.Temporal.Address
	}
	return fmt.Sprintf("127.0.0.1:%d", c.Temporal.Port)
}

// leafKeys lists the dotted keys of t's leaves: values that are not structs
// (durations, maps and slices are leaves).
func leafKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("mapstructure")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		name = strings.Split(name, ",")[0]
		key := name
		if prefix != "" {
			key = prefix + "." + name
		}
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Time{}) {
			keys = append(keys, leafKeys(f.Type, key)...)
			continue
		}
		keys = append(keys, key)
	}
	return keys
}

// lookup returns the value at a dotted key of c.
func lookup(c Config, key string) any {
	v := reflect.ValueOf(c)
	for _, part := range strings.Split(key, ".") {
		t := v.Type()
		found := false
		for i := range t.NumField() {
			name := strings.Split(t.Field(i).Tag.Get("mapstructure"), ",")[0]
			if name == part {
				v = v.Field(i)
				found = true
				break
			}
		}
		if !found {
			return nil
		}
	}
	return v.Interface()
}

// Setting is one effective key and its value, as `starter config` prints it.
type Setting struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
}

// secretKeys are never printed or logged.
var secretKeys = map[string]bool{"llm.api_key": true, "temporal.api_key": true, "notify.webhook_url": true, "http.api_token": true, "auth.oidc.client_secret": true, "token": true, "temporal.payload_key": true,
	"notify.smtp.password": true, "slack.bot_token": true, "slack.signing_secret": true}

// Settings lists every key with its effective value, secrets masked.
func (c Config) Settings() []Setting {
	keys := leafKeys(reflect.TypeOf(c), "")
	sort.Strings(keys)
	out := make([]Setting, 0, len(keys))
	for _, key := range keys {
		val := lookup(c, key)
		switch {
		case secretKeys[key]:
			if val != "" {
				val = "********"
			}
		case key == "store.dsn":
			val = MaskDSN(c.Store.DSN)
		case key == "source.dsn":
			val = MaskDSN(c.Source.DSN)
		}
		if d, ok := val.(time.Duration); ok {
			val = d.String()
		}
		out = append(out, Setting{Key: key, Value: val})
	}
	return out
}

// MaskDSN hides the password of a database URL.
func MaskDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "********")
	}
	return u.String()
}
