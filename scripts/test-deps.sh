#!/usr/bin/env bash
# Installs and starts what the tests need, and prints the environment for
# them on stdout (`make test` sources it). Idempotent. Each thing it installs
# or starts gets one line on stderr; the installers' own output goes to
# $CHURNWATCH_TEST_DEPS_LOG (default .churnwatch/test-deps.log).
set -euo pipefail
cd "$(dirname "$0")/.."

log=${CHURNWATCH_TEST_DEPS_LOG:-.churnwatch/test-deps.log}
mkdir -p "$(dirname "$log")"
: >"$log"
say() { echo "test-deps: $*" >&2; }

# quietly runs an installer with its output in the log; when it fails, the
# end of the log says why.
quietly() {
  if ! "$@" >>"$log" 2>&1; then
    say "failed: $*; the end of $log:"
    tail -n 20 "$log" >&2
    exit 1
  fi
}

# as_root runs a command as root: directly, or through sudo when sudo needs
# no password (make test never stops to ask for one).
as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  else
    sudo -n "$@"
  fi
}
can_be_root() {
  [[ $(id -u) -eq 0 ]] || { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }
}

# The official Temporal CLI: a real client and dev server for the
# cluster-topology test (newer tags do not go-install).
gobin="$(go env GOPATH)/bin"
if [ ! -x "$gobin/temporal" ]; then
  say "installing the Temporal CLI v1.5.1 in $gobin (a few minutes on 2 cores; log: $log)"
  quietly go install github.com/temporalio/cli/cmd/temporal@v1.5.1
fi
echo "export CHURNWATCH_TEST_TEMPORAL_CLI=$gobin/temporal"

# Mailpit, a real SMTP server with an HTTP API, for the email tests (the
# tests start it themselves on free loopback ports).
if [ ! -x "$gobin/mailpit" ]; then
  say "installing Mailpit v1.27.11 in $gobin (a minute or two; log: $log)"
  quietly go install github.com/axllent/mailpit@v1.27.11
fi
echo "export CHURNWATCH_TEST_MAILPIT=$gobin/mailpit"

# Debian's Chromium, the real browser for the Web UI test, and its
# PostgreSQL server for the store tests: one apt-get for what is missing.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
if ((${#missing[@]})); then
  if ! can_be_root; then
    say "missing: ${missing[*]}; installing needs root, or sudo without a password. Run"
    say "  sudo apt-get install -y ${missing[*]}"
    say "and then make test again."
    exit 1
  fi
  say "installing ${missing[*]} with apt-get (log: $log)"
  quietly as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  quietly as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
echo "export CHURNWATCH_TEST_CHROMIUM=$(command -v chromium)"

# PostgreSQL on a loopback port for the store tests: postgres.sh prints the
# export line; its one-line notes (creating, starting) are passed on.
pg_log=$(mktemp)
trap 'rm -f "$pg_log"' EXIT
if ! bash .ci/postgres.sh 2>"$pg_log"; then
  cat "$pg_log" >>"$log"
  say "starting PostgreSQL failed:"
  tail -n 20 "$pg_log" >&2
  exit 1
fi
cat "$pg_log" >>"$log"
sed -n 's/^postgres.sh: /test-deps: /p' "$pg_log" >&2
