#!/usr/bin/env bash
# Runs every test of the ExportServer example package: builds it (no warnings allowed in the example's
# own code), checks that Docs/HTTP-API.md quotes it verbatim, then the real-browser test, schemathesis,
# the SIGTERM test, the AWS backend against moto, the Postgres adapters (Swift tests and a SIGKILL loop
# of two servers on one database) against a PostgreSQL the tests start themselves, and the load run.
# Each test starts its own export-server on 127.0.0.1 (a free port, a fresh data directory) and stops it.
#
# Peers (installed by CI, see the report / .ci/run):
#   apt-get update && apt-get install -y chromium
#   pip install schemathesis playwright 'moto[server]'   # Playwright drives the system Chromium; no browser download
#   apt-get install -y postgresql-15                      # initdb, pg_ctl, postgres, pgbench (no server is left running)
# A missing peer fails the run with how to install it; nothing is skipped.
#
# Environment: ST_MAX_TIME (schemathesis seconds, 75), LOAD_SECONDS (60), LOAD_REQUESTS (2000),
# SCREENSHOT_PATH (Docs/images/export-server.png), LOAD_JSON (where the load summary is written).
set -euo pipefail
PACKAGE="$(cd "$(dirname "$0")/.." && pwd)"
cd "$PACKAGE"

missing=()
command -v chromium >/dev/null 2>&1 || [ -n "${CHROMIUM:-}" ] || missing+=("Chromium: apt-get update && apt-get install -y chromium")
python3 -c "import playwright" 2>/dev/null || missing+=("Playwright for Python: pip install playwright")
command -v schemathesis >/dev/null 2>&1 || missing+=("schemathesis: pip install schemathesis")
command -v moto_server >/dev/null 2>&1 || missing+=("moto_server: pip install 'moto[server]'")
pg_bin="${PG_BIN:-/usr/lib/postgresql/15/bin}"
[ -x "$pg_bin/initdb" ] || command -v initdb >/dev/null 2>&1 || missing+=("PostgreSQL 15 server: apt-get install -y postgresql-15")
if [ ${#missing[@]} -gt 0 ]; then
    printf 'FAIL: missing test peer: %s\n' "${missing[@]}" >&2
    exit 1
fi

echo "== build"
log="$(mktemp)"
swift build 2>&1 | tee "$log"
if grep -E "^$PACKAGE/Sources/.*: warning:" "$log"; then
    echo "FAIL: warnings in the example's own code" >&2
    exit 1
fi
export EXPORT_SERVER_BIN="$(swift build --show-bin-path)/export-server"

echo "== Postgres adapters: conformance, transactional enqueue, contention (swift test, own PostgreSQL)"
swift build --build-tests 2>&1 | tee "$log"
if grep -E "^$PACKAGE/(Sources|Tests)/.*: warning:" "$log"; then
    echo "FAIL: warnings in the example's own code" >&2
    exit 1
fi
CI="${CI:-}" swift test --skip-build

echo "== Postgres: two servers on one database under a SIGKILL loop"
python3 Tests/postgres_kill_test.py

echo "== docs quote the compiled code"
python3 Scripts/check_docs.py

echo "== real browser (headless Chromium)"
python3 Tests/browser_test.py

echo "== schemathesis against Docs/openapi.yaml"
python3 Tests/schemathesis_test.py

echo "== SIGTERM during a running export"
python3 Tests/sigterm_test.py

echo "== the AWS backend against moto_server"
python3 Tests/aws_test.py

echo "== load run"
python3 Tests/load_test.py --json "${LOAD_JSON:-$(mktemp --suffix=.json)}"

echo "ExportServer: all tests passed"
