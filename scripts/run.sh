#!/usr/bin/env bash
# `npm run demo` and friends on a fresh machine: bootstrap, then run the leakwatch command.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec node services/cli/dist/main.js "$@"
