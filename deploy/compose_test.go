package deploy

import (
	"bufio"
	"context"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/churnwatch/churnwatch/config"
)

// passwords stand in for the operator's .env.
var passwords = map[string]string{
	"DB_PASSWORD_POSTGRES":   "pg-secret",
	"DB_PASSWORD_TEMPORAL":   "temporal-secret",
	"DB_PASSWORD_CHURNWATCH": "churnwatch-secret",
}

// load reads docker-compose.yml and the given overrides the way
// `docker compose [--env-file envFile] [--profile ...]` does from the
// repository root, with env as its whole environment: neither the test
// process's variables nor a developer's own .env leak in.
func load(t *testing.T, env map[string]string, envFile string, profiles []string, overrides ...string) (*types.Project, error) {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	files := []string{filepath.Join(root, "docker-compose.yml")}
	for _, o := range overrides {
		files = append(files, filepath.Join(root, o))
	}
	var list []string
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	opts := []cli.ProjectOptionsFn{cli.WithWorkingDirectory(root), cli.WithEnv(list)}
	if envFile != "" {
		opts = append(opts, cli.WithEnvFiles(filepath.Join(root, envFile)), cli.WithDotEnv)
	}
	// Like Docker Compose: --profile, else COMPOSE_PROFILES.
	opts = append(opts, cli.WithDefaultProfiles(profiles...))
	po, err := cli.NewProjectOptions(files, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return po.LoadProject(context.Background())
}

func mustLoad(t *testing.T, env map[string]string, envFile string, profiles []string, overrides ...string) *types.Project {
	t.Helper()
	p, err := load(t, env, envFile, profiles, overrides...)
	if err != nil {
		t.Fatalf("load compose file: %v", err)
	}
	return p
}

func with(env map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func TestComposeNeedsPasswords(t *testing.T) {
	for name := range passwords {
		env := with(passwords)
		delete(env, name)
		_, err := load(t, env, "", nil)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("without %s: err = %v, want one naming it (no password may default)", name, err)
		}
	}
}

func TestComposeProductionTopology(t *testing.T) {
	p := mustLoad(t, passwords, "", nil)

	want := []string{"postgres", "temporal", "temporal-namespace", "temporal-schema", "temporal-ui", "worker-1", "worker-2"}
	if got := p.ServiceNames(); !slices.Equal(got, want) {
		t.Errorf("services without a profile = %v, want %v", got, want)
	}
	mailpit, err := p.GetDisabledService("mailpit")
	if err != nil {
		t.Errorf("mailpit: %v", err)
	} else if !slices.Equal(mailpit.Profiles, []string{"dev"}) {
		t.Errorf("mailpit profiles = %v, want only dev", mailpit.Profiles)
	}

	temporal := service(t, p, "temporal")
	needs(t, temporal, "temporal-schema", types.ServiceConditionCompletedSuccessfully)
	needs(t, temporal, "postgres", types.ServiceConditionHealthy)
	needs(t, service(t, p, "temporal-namespace"), "temporal", types.ServiceConditionHealthy)
	needs(t, service(t, p, "temporal-ui"), "temporal", types.ServiceConditionHealthy)
	for _, s := range p.Services {
		for dep, d := range s.DependsOn {
			if d.Condition != types.ServiceConditionHealthy {
				continue
			}
			if hc := service(t, p, dep).HealthCheck; hc == nil || hc.Disable || len(hc.Test) == 0 {
				t.Errorf("%s waits for %s to be healthy, which has no healthcheck", s.Name, dep)
			}
		}
	}

	schema := service(t, p, "temporal-schema")
	if !strings.HasPrefix(schema.Image, "temporalio/admin-tools:") || !slices.Contains(schema.Entrypoint, "/deploy/temporal-schema.sh") {
		t.Errorf("temporal-schema runs %s %v, want admin-tools running deploy/temporal-schema.sh", schema.Image, schema.Entrypoint)
	}

	workers := checkWorkers(t, p)
	ns := service(t, p, "temporal-namespace").Environment["NAMESPACE"]
	if ns == nil || *ns != workers[0].Temporal.Namespace {
		t.Errorf("temporal-namespace creates %v, the workers use %q", deref(ns), workers[0].Temporal.Namespace)
	}
	for _, cfg := range workers {
		if cfg.Notify.SMTP.Addr != "" {
			t.Errorf("without the dev profile a worker sends email to %q", cfg.Notify.SMTP.Addr)
		}
	}
}

// checkWorkers finds the Churnwatch workers (built here, running the
// image's entrypoint), loads each one's configuration from its environment
// exactly as the binary does, and checks they form one deployment.
func checkWorkers(t *testing.T, p *types.Project) []config.Config {
	t.Helper()
	var names []string
	var cfgs []config.Config
	for _, name := range p.ServiceNames() {
		s := p.Services[name]
		if s.Build == nil || len(s.Entrypoint) > 0 {
			continue
		}
		names = append(names, name)
		cfg := workerConfig(t, s)
		cfgs = append(cfgs, cfg)
		for dep, cond := range map[string]string{
			"postgres":           types.ServiceConditionHealthy,
			"temporal":           types.ServiceConditionHealthy,
			"temporal-namespace": types.ServiceConditionCompletedSuccessfully,
		} {
			needs(t, s, dep, cond)
		}
		checkHealthcheck(t, name, s)
		if cfg.Temporal.Address != "temporal:7233" {
			t.Errorf("%s: temporal.address = %q: a worker must connect to the cluster, embedding nothing", name, cfg.Temporal.Address)
		}
		if u, err := url.Parse(cfg.Store.DSN); err != nil || u.Hostname() != "postgres" {
			t.Errorf("%s: store.dsn = %q, want the postgres service", name, config.MaskDSN(cfg.Store.DSN))
		}
	}
	if len(cfgs) != 2 {
		t.Fatalf("worker replicas = %v, want two", names)
	}
	if cfgs[0].Store.DSN != cfgs[1].Store.DSN {
		t.Error("the two replicas use different store.dsn: they must share the decision record")
	}
	a, b := volumeAt(p.Services[names[0]], cfgs[0].DataDir), volumeAt(p.Services[names[1]], cfgs[1].DataDir)
	if a == "" || a == b {
		t.Errorf("data dirs come from volumes %q and %q, want one per replica", a, b)
	}
	// What is state lives in PostgreSQL, the snapshot uploads included: a
	// volume both replicas mount would be host-local state in disguise.
	mounted := map[string]bool{}
	for _, v := range p.Services[names[1]].Volumes {
		mounted[v.Source] = v.Type == types.VolumeTypeVolume
	}
	for _, v := range p.Services[names[0]].Volumes {
		if v.Type == types.VolumeTypeVolume && mounted[v.Source] {
			t.Errorf("the replicas share the volume %q; uploads and the rest of the state belong in the store", v.Source)
		}
	}
	if cfgs[0].Schedule.Enabled == cfgs[1].Schedule.Enabled {
		t.Error("schedule.enabled must be on in exactly one replica, which keeps the Temporal Schedules")
	}
	return cfgs
}

// workerConfig loads the configuration a container with s's environment
// gets; config.Load refuses unknown CHURNWATCH_* names and invalid values.
func workerConfig(t *testing.T, s types.ServiceConfig) config.Config {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, config.EnvPrefix+"_") && !strings.HasPrefix(k, config.EnvPrefix+"_TEST_") {
			t.Setenv(k, "") // restored after the test
			os.Unsetenv(k)
		}
	}
	for k, v := range s.Environment {
		if v != nil {
			t.Setenv(k, *v)
		}
	}
	cfg, err := config.Load(nil)
	if err != nil {
		t.Fatalf("%s: %v", s.Name, err)
	}
	for k, v := range s.Environment {
		if v != nil {
			os.Unsetenv(k)
		}
	}
	return cfg
}

func TestComposeImagesRestartsAndPorts(t *testing.T) {
	all := mustLoad(t, passwords, "", []string{"*"})
	if len(all.DisabledServices) != 0 || len(all.Services) < 9 {
		t.Fatalf("with every profile: %d services, %d disabled", len(all.Services), len(all.DisabledServices))
	}
	server, ui := goModVersion(t, "go.temporal.io/server"), goModVersion(t, "github.com/temporalio/ui-server/v2")
	for _, s := range all.Services {
		if s.Restart == "" {
			t.Errorf("%s has no restart policy", s.Name)
		}
		repo, tag := splitImage(s.Image)
		switch {
		case strings.HasSuffix(repo, "temporalio/auto-setup"):
			t.Errorf("%s uses the deprecated temporalio/auto-setup", s.Name)
		case tag == "" || tag == "latest":
			t.Errorf("%s: image %q is not pinned to a version", s.Name, s.Image)
		case repo == "temporalio/server" || repo == "temporalio/admin-tools":
			if tag != server {
				t.Errorf("%s: %s, want %s like go.temporal.io/server in go.mod", s.Name, s.Image, server)
			}
		case repo == "temporalio/ui" && tag != ui:
			t.Errorf("%s: %s, want %s like temporalio/ui-server in go.mod", s.Name, s.Image, ui)
		}
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("%s mounts %s, which is missing: %v", s.Name, v.Source, err)
			}
		}
	}

	// Every published port follows PUBLISH_IP, which defaults to loopback.
	for _, ip := range []string{"127.0.0.1", "192.0.2.7"} {
		env := passwords
		if ip != "127.0.0.1" {
			env = with(passwords, "PUBLISH_IP", ip)
		}
		published := 0
		for _, s := range mustLoad(t, env, "", []string{"*"}).Services {
			for _, port := range s.Ports {
				published++
				if port.HostIP != ip {
					t.Errorf("PUBLISH_IP=%s: %s publishes %s on %q", ip, s.Name, port.Published, port.HostIP)
				}
			}
		}
		if published == 0 {
			t.Error("nothing is published: the review pages must be reachable from the host")
		}
	}
}

func TestComposeDevProfile(t *testing.T) {
	// The env file alone turns the profile on, as with
	// `docker compose --env-file deploy/dev.env up`.
	p := mustLoad(t, map[string]string{}, "deploy/dev.env", nil)
	mailpit := service(t, p, "mailpit")
	workers := checkWorkers(t, p)
	for _, cfg := range workers {
		host, port, _ := strings.Cut(cfg.Notify.SMTP.Addr, ":")
		if host != mailpit.Name || port != "1025" || cfg.Notify.SMTP.StartTLS {
			t.Errorf("dev worker sends email to %q (STARTTLS %v), want mailpit:1025 in plain SMTP", cfg.Notify.SMTP.Addr, cfg.Notify.SMTP.StartTLS)
		}
	}
	if slices.Contains(p.ServiceNames(), "starter") {
		t.Error("the dev profile runs the starter, which is for `docker compose run`")
	}
}

func TestComposeTLSOverride(t *testing.T) {
	p := mustLoad(t, passwords, "", nil, "deploy/docker-compose.tls.yml")
	for _, cfg := range checkWorkers(t, p) {
		tls := cfg.Temporal.TLS
		if !tls.Enabled || tls.CertFile == "" || tls.KeyFile == "" || tls.CAFile == "" || tls.ServerName != "temporal" {
			t.Errorf("worker TLS = %+v, want mTLS to the frontend named temporal", tls)
		}
	}
	env := service(t, p, "temporal").Environment
	for _, k := range []string{"TEMPORAL_TLS_REQUIRE_CLIENT_AUTH", "TEMPORAL_TLS_FRONTEND_CERT", "TEMPORAL_TLS_FRONTEND_KEY", "TEMPORAL_TLS_CLIENT1_CA_CERT"} {
		if env[k] == nil || *env[k] == "" {
			t.Errorf("temporal lacks %s with the TLS override", k)
		}
	}
	if env["POSTGRES_SEEDS"] == nil {
		t.Error("the TLS override replaced temporal's environment instead of adding to it")
	}
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	if err != nil {
		t.Fatalf("service %s: %v", name, err)
	}
	return s
}

func needs(t *testing.T, s types.ServiceConfig, dep, condition string) {
	t.Helper()
	if d, ok := s.DependsOn[dep]; !ok || d.Condition != condition {
		t.Errorf("%s depends on %s with %q, want %s", s.Name, dep, d.Condition, condition)
	}
}

// volumeAt is the named volume s mounts at target, or "".
func volumeAt(s types.ServiceConfig, target string) string {
	for _, v := range s.Volumes {
		if v.Target == target && v.Type == types.VolumeTypeVolume {
			return v.Source
		}
	}
	return ""
}

func splitImage(image string) (repo, tag string) {
	image, _, _ = strings.Cut(image, "@")
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") {
		return image, ""
	}
	return image[:i], image[i+1:]
}

// goModVersion is module's version in go.mod, without the v.
func goModVersion(t *testing.T, module string) string {
	t.Helper()
	f, err := os.Open("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == module {
			return strings.TrimPrefix(fields[1], "v")
		}
	}
	t.Fatalf("go.mod does not require %s", module)
	return ""
}

func deref(s *string) string {
	if s == nil {
		return "<unset>"
	}
	return *s
}

// checkHealthcheck: a worker's healthcheck runs the worker binary the
// image holds (it has no shell or HTTP client) with --healthcheck.
func checkHealthcheck(t *testing.T, name string, s types.ServiceConfig) {
	t.Helper()
	hc := s.HealthCheck
	if hc == nil || len(hc.Test) != 3 || hc.Test[0] != "CMD" || hc.Test[2] != "--healthcheck" {
		t.Errorf("%s: healthcheck %+v, want [CMD <worker binary> --healthcheck]", name, hc)
		return
	}
	dockerfile, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	dir, bin := path.Split(hc.Test[1])
	if bin != "worker" || !strings.Contains(string(dockerfile), "/out/worker "+dir) {
		t.Errorf("%s: healthcheck runs %s, which the Dockerfile does not copy the worker to", name, hc.Test[1])
	}
}
