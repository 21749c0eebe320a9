package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthcheck(t *testing.T) {
	status := http.StatusServiceUnavailable
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
		io.WriteString(w, "starting")
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	var stderr strings.Builder
	if code := healthcheck("0.0.0.0:"+port, &stderr); code != 1 || !strings.Contains(stderr.String(), "503") {
		t.Errorf("while starting: exit %d, %q; want 1 naming the 503", code, stderr.String())
	}
	status = http.StatusOK
	for _, addr := range []string{srv.Listener.Addr().String(), ":" + port, "0.0.0.0:" + port, "[::]:" + port} {
		if code := healthcheck(addr, io.Discard); code != 0 {
			t.Errorf("%s, polling: exit %d, want 0", addr, code)
		}
	}
	srv.Close()
	if code := healthcheck("127.0.0.1:"+port, io.Discard); code != 1 {
		t.Errorf("nothing listening: exit %d, want 1", code)
	}
	if code := healthcheck("no port", io.Discard); code != 1 {
		t.Errorf("bad address: exit %d, want 1", code)
	}
}
