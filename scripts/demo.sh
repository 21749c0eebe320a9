#!/usr/bin/env bash
# The demo: start the worker on the embedded default (embedded Temporal on a
# SQLite file, embedded store, offline drafter), then run the weekly review
# of the sample book. The worker keeps running so you can approve reviews;
# `make stop` (or `scripts/demo.sh stop`) stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

data_dir=${CHURNWATCH_DATA_DIR:-.churnwatch}
http_addr=${CHURNWATCH_HTTP_ADDR:-127.0.0.1:8080}
pidfile="$data_dir/worker.pid"
log="$data_dir/worker.log"
book=examples/portfolio.csv

stop() {
  if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill "$(cat "$pidfile")"
    for _ in $(seq 50); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.2; done
    echo "worker stopped"
  fi
  rm -f "$pidfile"
}

# ready says whether the worker is ready to take work: /readyz when it has
# one (200 ready, 503 not yet), else /healthz.
ready() {
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://$http_addr/readyz" || true)
  case $code in
    200) return 0 ;;
    503) return 1 ;;
  esac
  curl -fsS "http://$http_addr/healthz" >/dev/null 2>&1
}

# logged_url is the url= of the worker's last log line with message $1, in
# the text or the JSON log format; empty when it logged none.
logged_url() {
  sed -nE "s/.*msg=?\"?:?\"?$1\"?[ ,]\"?url\"?[=:]\"?([^ \",]+).*/\1/p" "$log" | tail -n 1
}

if [[ ${1:-} == stop ]]; then
  stop
  exit 0
fi

[[ -x bin/worker && -x bin/starter ]] || go build -o bin/ ./starter ./worker
mkdir -p "$data_dir"

if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "worker already running (pid $(cat "$pidfile"))"
else
  echo "Starting the worker with the embedded Temporal server (data in $data_dir, log in $log)..."
  nohup bin/worker --data-dir "$data_dir" --http-addr "$http_addr" >"$log" 2>&1 &
  echo $! >"$pidfile"
  for i in $(seq 120); do
    if ready; then break; fi
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "the worker exited; its log:" >&2; tail -20 "$log" >&2; exit 1
    fi
    sleep 0.5
  done
  ready || { echo "the worker did not become ready; see $log" >&2; exit 1; }
fi

# The addresses the worker actually serves, as it logged them.
pages_url=$(logged_url "review pages")
ui_url=$(logged_url "Temporal Web UI")
echo "Review pages: ${pages_url:-http://$http_addr}"
if [[ -n $ui_url ]]; then
  echo "Temporal Web UI: $ui_url"
elif grep -q "Temporal Web UI not served" "$log"; then
  echo "Temporal Web UI: not served (its port is taken; the worker runs on without it; see $log)"
fi

echo
echo "== This week's ranked risk report (starter score) =="
bin/starter score --input "$book"
echo
echo "== Weekly review: scan the book and start reviews (starter scan) =="
bin/starter scan --input "$book"
echo
echo "== Reviews waiting for their owners (starter reviews list) =="
sleep 1 # visibility is eventually consistent
bin/starter reviews list --state awaiting_approval
first=$(bin/starter reviews list --state awaiting_approval --json | sed -n 's/.*"review_id": "\(.*\)".*/\1/p' | head -1)
owner=$(bin/starter reviews list --state awaiting_approval --json | sed -n 's/.*"owner": "\(.*\)".*/\1/p' | head -1)
cat <<NEXT

The worker keeps running. Next, as a team:
  bin/starter users add $owner --role csm --password-stdin     # type a password (10+ characters), then Enter
  bin/starter users add cs-lead --role leader --password-stdin
  open ${pages_url:-http://$http_addr}, sign in as $owner and decide $first on its page
  export CHURNWATCH_SERVER_URL=${pages_url:-http://$http_addr} CHURNWATCH_TOKEN=\$(bin/starter users token $owner)
  bin/starter review approve $first --note "calling the sponsor today"   # the same, from a script
  bin/starter summary --format md
${ui_url:+  open $ui_url (the Temporal Web UI, read-only)
}  make stop
NEXT
