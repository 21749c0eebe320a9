package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// healthcheck asks the worker listening on addr (http.addr) for GET
// /healthz and returns the exit status for `worker --healthcheck`: 0 when it
// answers 200 (its workers poll), 1 otherwise. The worker's image is
// distroless, with no HTTP client for a container healthcheck to run: this
// is the one it has.
func healthcheck(addr string, stderr io.Writer) int {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		fmt.Fprintf(stderr, "worker --healthcheck: http.addr %q: %v\n", addr, err)
		return 1
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1" // listening on every address: ask over loopback
	}
	url := "http://" + net.JoinHostPort(host, port) + "/healthz"
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		fmt.Fprintf(stderr, "worker --healthcheck: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		fmt.Fprintf(stderr, "worker --healthcheck: %s answered %s: %s\n", url, resp.Status, body)
		return 1
	}
	return 0
}
