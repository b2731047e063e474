#!/usr/bin/env bash
# `npm run demo` and friends on a fresh machine: bootstrap, then run the leakwatch command.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# a larger young generation: the monitor allocates per message, and scavenges were 30% of its CPU
exec node --max-semi-space-size=64 services/cli/dist/main.js "$@"
