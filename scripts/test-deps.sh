#!/usr/bin/env bash
# Installs and starts what the tests need, and prints the environment for
# them on stdout (`make test` sources it). Idempotent; logs go to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."

# The official Temporal CLI: a real client and dev server for the
# cluster-topology test (newer tags do not go-install).
gobin="$(go env GOPATH)/bin"
if [ ! -x "$gobin/temporal" ]; then
  echo "installing the Temporal CLI v1.5.1 (a few minutes on 2 cores)..." >&2
  go install github.com/temporalio/cli/cmd/temporal@v1.5.1 >&2
fi
echo "export CHURNWATCH_TEST_TEMPORAL_CLI=$gobin/temporal"

# Debian's Chromium, the real browser for the Web UI test.
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq chromium >&2
fi
echo "export CHURNWATCH_TEST_CHROMIUM=$(command -v chromium)"

# PostgreSQL on a loopback port for the store tests.
bash .ci/postgres.sh
