#!/bin/sh
# The temporal-schema job: creates Temporal's two databases if they are
# missing and brings their schemas to the versions this admin-tools image
# ships. Every step is idempotent, so it runs at each `docker compose up`;
# after an image upgrade it is what migrates the schema, before the new
# server starts (the server waits for this job to complete successfully).
set -eu
: "${SQL_HOST:?}" "${SQL_USER:?}" "${SQL_PASSWORD:?}"
schema=${SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}

for db in temporal temporal_visibility; do
	dir=$schema/temporal/versioned
	[ "$db" = temporal_visibility ] && dir=$schema/visibility/versioned
	echo "temporal-schema: $db"
	temporal-sql-tool --plugin postgres12 --db "$db" create
	temporal-sql-tool --plugin postgres12 --db "$db" setup-schema -v 0.0
	temporal-sql-tool --plugin postgres12 --db "$db" update-schema -d "$dir"
done
echo "temporal-schema: up to date"
