#!/usr/bin/env bash
# Brings a fresh checkout to a runnable state: the pinned pnpm, dependencies, a build.
# Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'bootstrap: %s\n' "$*" >&2; }

want=$(node -p "require('./package.json').packageManager.split('@')[1]")
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$want" ]; then
  say "installing pnpm $want from the npm registry"
  if ! npm install -g "pnpm@$want" --no-fund --no-audit --loglevel=error >&2; then
    say "global install refused; installing pnpm into .cache/tools"
    npm install --prefix .cache/tools "pnpm@$want" --no-fund --no-audit --loglevel=error >&2
  fi
fi
export PATH="$PWD/.cache/tools/node_modules/.bin:$PATH"

# The local stack runs on Java 17+, Maven and redis-server, `--with prometheus` on Prometheus
# (which carries promtool, for the rule checks), the browser tests on Chromium: Debian packages. Install what is
# missing when we may; otherwise `leakwatch stack up` names what to install.
missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -x /usr/bin/prometheus ] || command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
# the browser tests (console end to end, the Prometheus screenshot) drive Debian's Chromium
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  say "installing ${missing[*]} with apt-get"
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi

if [ ! -f node_modules/.modules.yaml ] || [ pnpm-lock.yaml -nt node_modules/.modules.yaml ]; then
  say "installing dependencies"
  pnpm install --frozen-lockfile --reporter=append-only >&2
fi

say "building"
pnpm -s build >&2
