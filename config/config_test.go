package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func writeFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "churnwatch.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func flags(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	AddFlags(fs, "temporal-address", "namespace", "data-dir")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestDefaultsRunOffline(t *testing.T) {
	cfg, err := Load(flags(t))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Temporal.Address != "" || cfg.LLM.BaseURL != "" || cfg.Store.DSN != "" {
		t.Errorf("defaults must need no server: %+v", cfg)
	}
	if cfg.FrontendAddress() != "127.0.0.1:7233" || cfg.DataDir != "./.churnwatch" || cfg.HTTP.Addr != "127.0.0.1:8080" {
		t.Errorf("contract defaults changed: %s %s %s", cfg.FrontendAddress(), cfg.DataDir, cfg.HTTP.Addr)
	}
	if cfg.Review.SLACritical != 48*time.Hour || cfg.Review.SLAElevated != 7*24*time.Hour {
		t.Errorf("SLAs: %s %s", cfg.Review.SLACritical, cfg.Review.SLAElevated)
	}
	if p := cfg.Policy(); p.LLMTaskQueue != "" {
		t.Errorf("no LLM configured, yet the policy drafts on %q", p.LLMTaskQueue)
	}
}

func TestPrecedenceFlagsEnvFileDefaults(t *testing.T) {
	file := writeFile(t, "temporal:\n  address: file:7233\n  namespace: from-file\ndata_dir: /from/file\nreview:\n  sla_critical: 24h\n")
	t.Setenv("CHURNWATCH_TEMPORAL_ADDRESS", "env:7233")
	t.Setenv("CHURNWATCH_DATA_DIR", "/from/env")
	cfg, err := Load(flags(t, "--config", file, "--temporal-address", "flag:7233"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Temporal.Address != "flag:7233" {
		t.Errorf("flag should win: %s", cfg.Temporal.Address)
	}
	if cfg.DataDir != "/from/env" {
		t.Errorf("env should beat the file: %s", cfg.DataDir)
	}
	if cfg.Temporal.Namespace != "from-file" {
		t.Errorf("file should beat defaults: %s", cfg.Temporal.Namespace)
	}
	if cfg.Review.SLACritical != 24*time.Hour {
		t.Errorf("durations from the file: %s", cfg.Review.SLACritical)
	}
	if cfg.Review.SLAElevated != 7*24*time.Hour {
		t.Errorf("unset keys keep defaults: %s", cfg.Review.SLAElevated)
	}
}

func TestErrorsNameTheKey(t *testing.T) {
	cases := []struct {
		name, file, env, want string
	}{
		{"unknown key in file", "temporal:\n  adress: x:1\n", "", "adress"},
		{"invalid duration", "review:\n  sla_critical: soon\n", "", "sla_critical"},
		{"negative SLA", "review:\n  sla_elevated: -1h\n", "", "review.sla_elevated"},
		{"bad store dsn", "store:\n  dsn: mysql://x\n", "", "store.dsn"},
		{"llm without model", "llm:\n  base_url: http://127.0.0.1:11434/v1\n", "", "llm.model"},
		{"bad time zone", "schedule:\n  time_zone: Mars/Olympus\n", "", "schedule.time_zone"},
		{"bad webhook", "notify:\n  webhook_url: hooks.example.test/T0\n", "", "notify.webhook_url"},
		{"unknown env", "", "CHURNWATCH_TEMPORAL_ADRESS", "CHURNWATCH_TEMPORAL_ADRESS"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var args []string
			if c.file != "" {
				args = []string{"--config", writeFile(t, c.file)}
			}
			if c.env != "" {
				t.Setenv(c.env, "x:1")
			}
			_, err := Load(flags(t, args...))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want an error naming %q, got %v", c.want, err)
			}
		})
	}
}

func TestSettingsMaskSecrets(t *testing.T) {
	t.Setenv("CHURNWATCH_LLM_API_KEY", "sk-very-secret")
	t.Setenv("CHURNWATCH_LLM_BASE_URL", "https://api.example.test/v1")
	t.Setenv("CHURNWATCH_LLM_MODEL", "gpt-test")
	t.Setenv("CHURNWATCH_STORE_DSN", "postgres://cw:hunter2@db:5432/cw")
	t.Setenv("CHURNWATCH_NOTIFY_WEBHOOK_URL", "https://hooks.example.test/services/T0/B0/xoxo-token")
	cfg, err := Load(flags(t))
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, s := range cfg.Settings() {
		all.WriteString(s.Key + "=" + toString(s.Value) + "\n")
	}
	out := all.String()
	for _, secret := range []string{"sk-very-secret", "hunter2", "xoxo-token"} {
		if strings.Contains(out, secret) {
			t.Errorf("settings print %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "llm.model=gpt-test") || !strings.Contains(out, "llm.api_key=********") {
		t.Errorf("settings lack keys:\n%s", out)
	}
	if cfg.Policy().LLMTaskQueue != "churnwatch-llm" {
		t.Errorf("an LLM endpoint drafts on the LLM queue")
	}
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return strings.TrimSpace(strings.ReplaceAll(fmtValue(v), "\n", " "))
}

func fmtValue(v any) string { return fmt.Sprint(v) }

// TestEveryKeyIsDocumented keeps docs/configuration.md in step with the
// code: every key outside the scoring model is named there.
func TestEveryKeyIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range leafKeys(reflect.TypeOf(Default()), "") {
		if strings.HasPrefix(key, "risk.") {
			continue
		}
		if !strings.Contains(string(doc), "`"+key+"`") && !strings.Contains(string(doc), key+"`") {
			t.Errorf("docs/configuration.md does not document %s", key)
		}
	}
}
