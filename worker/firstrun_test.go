package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/risk"
)

// TestBusyWebUIPortIsNotFatal takes the Web UI's port before the worker
// starts, as another Temporal dev server on 8233 would. The worker must
// come up without the UI and serve its pages: ui-server alone would end the
// whole process (echo's Logger.Fatal), and this test binary with it.
func TestBusyWebUIPortIsNotFatal(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := testConfig(t, t.TempDir())
	cfg.Temporal.UIPort = busy.Addr().(*net.TCPAddr).Port
	startWorker(t, cfg)

	base := "http://" + cfg.HTTP.Addr
	if code, _, _ := get(t, http.DefaultClient, base+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz: %d, want 200", code)
	}
	if code, body, _ := get(t, http.DefaultClient, base+"/login"); code != http.StatusOK || !strings.Contains(body, `id="login"`) {
		t.Errorf("/login: %d\n%.1000s", code, body)
	}
}

// TestWorkerCommandLine checks --version, --help (with the Web UI's port
// among the flags) and an unknown flag.
func TestWorkerCommandLine(t *testing.T) {
	for _, c := range []struct {
		args       []string
		code       int
		done       bool
		out, inErr string
	}{
		{[]string{"--version"}, 0, true, risk.ModelVersion, ""},
		{[]string{"--help"}, 0, true, "--temporal-ui-port int", ""},
		{[]string{"-h"}, 0, true, "examples:", ""},
		{[]string{"--no-such-flag"}, 2, true, "", "--http-addr"},
	} {
		fs := pflag.NewFlagSet("worker", pflag.ContinueOnError)
		config.AddFlags(fs, "http-addr", "temporal-ui-port")
		var out, errOut bytes.Buffer
		code, done := parseArgs(fs, c.args, &out, &errOut)
		if code != c.code || done != c.done || !strings.Contains(out.String(), c.out) || !strings.Contains(errOut.String(), c.inErr) {
			t.Errorf("%v: exit %d (done %v), stdout %q, stderr %q; want %d (%v) with %q and %q",
				c.args, code, done, out.String(), errOut.String(), c.code, c.done, c.out, c.inErr)
		}
	}

	fs := pflag.NewFlagSet("worker", pflag.ContinueOnError)
	config.AddFlags(fs, "temporal-ui-port")
	if _, done := parseArgs(fs, []string{"--temporal-ui-port", "0"}, io.Discard, io.Discard); done {
		t.Fatal("--temporal-ui-port 0: the worker would exit")
	}
	if cfg, err := config.Load(fs); err != nil || cfg.Temporal.UIPort != 0 {
		t.Errorf("--temporal-ui-port 0: temporal.ui_port %d, %v", cfg.Temporal.UIPort, err)
	}
}
