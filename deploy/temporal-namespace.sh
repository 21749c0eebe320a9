#!/bin/sh
# The temporal-namespace job: waits until the frontend answers, then creates
# the namespace the workers use unless it exists. temporalio/server, unlike
# the deprecated auto-setup image, creates no namespace of its own. The
# workers register their search attributes themselves.
#
# With TLS (deploy/docker-compose.tls.yml) it presents TEMPORAL_TLS_CERT and
# TEMPORAL_TLS_KEY and trusts TEMPORAL_TLS_CA.
set -eu
: "${TEMPORAL_ADDRESS:?}" "${NAMESPACE:?}" "${RETENTION:?}"
if [ -n "${TEMPORAL_TLS_CA:-}" ]; then
	set -- --tls-ca-path "$TEMPORAL_TLS_CA" --tls-cert-path "$TEMPORAL_TLS_CERT" \
		--tls-key-path "$TEMPORAL_TLS_KEY" --tls-server-name "${TEMPORAL_TLS_SERVER_NAME:-temporal}"
fi

tries=0
until temporal operator cluster health --address "$TEMPORAL_ADDRESS" "$@"; do
	tries=$((tries + 1))
	if [ "$tries" -ge 60 ]; then
		echo "temporal-namespace: the frontend at $TEMPORAL_ADDRESS is not serving after 60 tries" >&2
		exit 1
	fi
	sleep 2
done
if temporal operator namespace describe --address "$TEMPORAL_ADDRESS" "$@" -n "$NAMESPACE" >/dev/null 2>&1; then
	echo "temporal-namespace: $NAMESPACE exists"
	exit 0
fi
temporal operator namespace create --address "$TEMPORAL_ADDRESS" "$@" -n "$NAMESPACE" --retention "$RETENTION"
echo "temporal-namespace: created $NAMESPACE (retention $RETENTION)"
