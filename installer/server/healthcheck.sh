#!/usr/bin/env bash
# Check the sync server's /health: exit 0 only when it answers 200 with the database reachable.
set -euo pipefail
# shellcheck source=installer/server/common.sh
. "$(dirname "$(readlink -f "$0")")/common.sh"

URL=http://127.0.0.1:8000/health
CACERT=""
RESOLVE=""
WAIT=0

usage() {
    cat <<USAGE
usage: $PROG [--url URL] [--cacert FILE] [--resolve HOST:PORT:ADDRESS] [--wait SECONDS]
Exit 0 when URL answers 200 with {"status": "ok", "database": "ok"}, else 1 with the reason.

  --url URL               the health endpoint [$URL]
  --cacert FILE           trust this CA for HTTPS (a private or test certificate)
  --resolve H:P:ADDR      reach host H port P at ADDR (check the public name from the host)
  --wait SECONDS          keep trying this long before failing [0]
  -h, --help              this help
USAGE
}

while [ $# -gt 0 ]; do
    case $1 in
    --url) need_value "$@" && URL=$2 ;;
    --cacert) need_value "$@" && CACERT=$2 ;;
    --resolve) need_value "$@" && RESOLVE=$2 ;;
    --wait) need_value "$@" && WAIT=$2 ;;
    -h | --help) usage && exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
    esac
    shift 2
done
[[ $WAIT =~ ^[0-9]+$ ]] || die "--wait takes whole seconds"

curl_args=(--silent --show-error --max-time 5 --output - --write-out '\n%{http_code}')
[ -z "$CACERT" ] || curl_args+=(--cacert "$CACERT")
[ -z "$RESOLVE" ] || curl_args+=(--resolve "$RESOLVE")

check() {
    local answer status body
    if ! answer=$(curl "${curl_args[@]}" "$URL" 2>&1); then
        reason="no answer from $URL: $(grep -m 1 '^curl:' <<<"$answer" || echo "curl failed")"
        return 1
    fi
    status=${answer##*$'\n'}
    body=${answer%$'\n'*}
    # The body is small, flat JSON written by the server: {"status":"ok","database":"ok"}.
    if [ "$status" = 200 ] && [[ $body =~ \"status\":\ ?\"ok\" ]] &&
        [[ $body =~ \"database\":\ ?\"ok\" ]]; then
        return 0
    fi
    reason="$URL answered $status: ${body:0:200}"
    return 1
}

reason=""
deadline=$((SECONDS + WAIT))
until check; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "$PROG: unhealthy: $reason" >&2
        exit 1
    fi
    sleep 1
done
echo "$PROG: healthy: $URL"
