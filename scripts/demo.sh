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
    if curl -fsS "http://$http_addr/healthz" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "the worker exited; its log:" >&2; tail -20 "$log" >&2; exit 1
    fi
    sleep 0.5
  done
  curl -fsS "http://$http_addr/healthz" >/dev/null || { echo "the worker did not become healthy; see $log" >&2; exit 1; }
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

The worker keeps running. Next:
  bin/starter review show $first
  bin/starter review approve $first --as $owner --note "calling the sponsor today"
  bin/starter summary --format md
  open http://127.0.0.1:8080 (the review pages) or http://127.0.0.1:8233 (the Temporal Web UI)
  make stop
NEXT
