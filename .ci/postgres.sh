#!/usr/bin/env bash
# Starts a throwaway PostgreSQL for the store tests and prints the line that
# points the tests at it:
#
#   eval "$(bash .ci/postgres.sh)"   # sets CHURNWATCH_TEST_POSTGRES_DSN
#
# Idempotent: a second run finds the cluster running and prints the same line.
# Installs Debian's postgresql when no server binaries are found (needs root).
# The cluster lives in $CHURNWATCH_PG_DIR (default /tmp/churnwatch-pg), listens
# on 127.0.0.1:$CHURNWATCH_PG_PORT (default 55432) only, and trusts local
# connections: it is for tests, never for data anyone keeps.
# Stop it with: bash .ci/postgres.sh stop (make test-stop, make stop)
set -euo pipefail

dir=${CHURNWATCH_PG_DIR:-/tmp/churnwatch-pg}
port=${CHURNWATCH_PG_PORT:-55432}
db=churnwatch_test
log() { echo "postgres.sh: $*" >&2; }

find_bin() {
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [[ -x $d/initdb && -x $d/pg_ctl ]]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

# initdb and postgres refuse to run as root: run them as the postgres user then.
if [[ $(id -u) -eq 0 ]]; then
	as_owner() { runuser -u postgres -- "$@"; }
	owner=postgres
else
	as_owner() { "$@"; }
	owner=$(id -un)
fi

# `postgres.sh stop` stops the cluster (make test-stop), waiting for it to
# shut down cleanly; nothing running is nothing to do.
if [[ ${1:-} == stop ]]; then
	if bin=$(find_bin) && [[ -s $dir/data/PG_VERSION ]] && as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
		as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
		log "stopped PostgreSQL on 127.0.0.1:$port ($dir)"
	fi
	exit 0
fi

if ! bin=$(find_bin); then
	if [[ $(id -u) -ne 0 ]]; then
		log "no PostgreSQL server under /usr/lib/postgresql and not root to install it; run: apt-get install -y postgresql"
		exit 1
	fi
	log "installing postgresql"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq postgresql >&2
	bin=$(find_bin) || { log "postgresql installed but initdb not found"; exit 1; }
fi

mkdir -p "$dir"
chown "$owner" "$dir" 2>/dev/null || true
chmod 700 "$dir"

if [[ ! -s $dir/data/PG_VERSION ]]; then
	log "creating a cluster in $dir/data"
	as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; exit 1; }
fi

if ! as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
	log "starting PostgreSQL on 127.0.0.1:$port"
	as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $port -k $dir" \
		start >&2 || { tail -n 20 "$dir/server.log" >&2; exit 1; }
fi

psql=("$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA)
if [[ $("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$db'") != 1 ]]; then
	"${psql[@]}" -c "CREATE DATABASE $db" >&2
fi

echo "export CHURNWATCH_TEST_POSTGRES_DSN=postgres://postgres@127.0.0.1:$port/$db?sslmode=disable"
