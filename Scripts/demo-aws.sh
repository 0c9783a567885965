#!/usr/bin/env bash
# The demo on AWS APIs against a local moto_server: starts moto on 127.0.0.1 (port $MOTO_PORT, 4566 by
# default, since macOS's AirPlay receiver holds 5000), waits at most 30 s for it to answer, runs
# `swift run membership-export-demo --backend aws` with the arguments given, and stops moto however the
# demo ends. Needs moto: pip install 'moto[server]'.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${MOTO_PORT:-4566}"
endpoint="http://127.0.0.1:$port"

if ! command -v moto_server >/dev/null 2>&1; then
  echo "demo-aws: moto_server is not installed. Install it with: pip install 'moto[server]'" >&2
  exit 1
fi
if curl -s -o /dev/null "$endpoint/"; then
  echo "demo-aws: something already answers on $endpoint; stop it or set MOTO_PORT to a free port" >&2
  exit 1
fi

log="$(mktemp "${TMPDIR:-/tmp}/moto-demo.XXXXXX")"
moto_server -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto=$!
trap 'kill "$moto" 2>/dev/null || true; wait "$moto" 2>/dev/null || true; rm -f "$log"' EXIT

for _ in $(seq 150); do
  curl -s -o /dev/null "$endpoint/" && break
  if ! kill -0 "$moto" 2>/dev/null; then
    echo "demo-aws: moto_server exited at start:" >&2; cat "$log" >&2; exit 1
  fi
  sleep 0.2
done
if ! curl -s -o /dev/null "$endpoint/"; then
  echo "demo-aws: moto_server did not answer on $endpoint within 30 s; its log:" >&2; cat "$log" >&2; exit 1
fi
echo "demo-aws: moto_server (pid $moto) answers on $endpoint; it is stopped when the demo ends"

AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-testing}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-testing}" \
  swift run membership-export-demo --backend aws --endpoint "$endpoint" "$@"
