#!/usr/bin/env bash
# The test command: lint, unit tests, then integration tests against real Kafka, schema
# registry and Redis. Uses the LEAKWATCH_* endpoints when set; otherwise starts the local
# stack and stops, at the end, only what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export PATH="$PWD/.cache/tools/node_modules/.bin:$PATH"
mkdir -p reports

echo "== lint" >&2
pnpm -s exec tsc -p tsconfig.check.json
pnpm -s exec eslint .
pnpm -s exec knip
pnpm -s exec prettier --check . >/dev/null || { pnpm -s exec prettier --check .; exit 1; }

echo "== unit tests" >&2
unit_rc=0
pnpm -s exec vitest run --project unit --reporter=default --reporter=json --outputFile.json=reports/unit.json || unit_rc=$?

if [ -z "${LEAKWATCH_KAFKA_BROKERS:-}" ]; then
  echo "== starting the local stack" >&2
  eval "$(node services/cli/dist/main.js stack up --redis-cluster --env)"
  if [ -n "${LEAKWATCH_STACK_STARTED:-}" ]; then
    trap 'node services/cli/dist/main.js stack down --only "$LEAKWATCH_STACK_STARTED" || true' EXIT
  fi
fi

echo "== integration tests" >&2
int_rc=0
pnpm -s exec vitest run --project integration --reporter=default --reporter=json --outputFile.json=reports/integration.json || int_rc=$?

node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const f of ["reports/unit.json", "reports/integration.json"]) {
    if (!fs.existsSync(f)) { failed += 1; continue; }
    const r = JSON.parse(fs.readFileSync(f, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + r.numTodoTests;
  }
  console.log(`vitest: ${passed} passed, ${failed} failed, ${skipped} skipped`);
'
[ "$unit_rc" = 0 ] && [ "$int_rc" = 0 ]
