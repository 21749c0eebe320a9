#!/bin/sh
# PostgreSQL runs this once, on its first start with an empty data volume
# (it is mounted into /docker-entrypoint-initdb.d). It gives Temporal and
# Churnwatch a role each, so neither can read or drop the other's data:
#   temporal    may create databases; the temporal-schema job creates and
#               migrates "temporal" and "temporal_visibility" with it.
#   churnwatch  owns the "churnwatch" database, the decision record; the
#               workers migrate it themselves at start.
# Changing a password later is ALTER ROLE ... PASSWORD, not this script.
set -eu
: "${DB_PASSWORD_TEMPORAL:?set DB_PASSWORD_TEMPORAL}"
: "${DB_PASSWORD_CHURNWATCH:?set DB_PASSWORD_CHURNWATCH}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
	-v temporal_pw="$DB_PASSWORD_TEMPORAL" -v churnwatch_pw="$DB_PASSWORD_CHURNWATCH" <<'SQL'
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_pw';
CREATE ROLE churnwatch LOGIN PASSWORD :'churnwatch_pw';
CREATE DATABASE churnwatch OWNER churnwatch;
SQL
