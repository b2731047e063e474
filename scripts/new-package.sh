#!/usr/bin/env bash
# Scaffold a workspace package: scripts/new-package.sh packages/<name> "<one-line job>" [dep ...]
set -euo pipefail
dir=$1; desc=$2; shift 2
name="@leakwatch/$(basename "$dir")"
mkdir -p "$dir/src"
deps=""
refs=""
for d in "$@"; do
  deps+="\"@leakwatch/$d\": \"workspace:*\","
  if [ -d "packages/$d" ]; then refs+="{ \"path\": \"../../packages/$d\" },"; fi
done
deps=${deps%,}; refs=${refs%,}
cat > "$dir/package.json" <<JSON
{
  "name": "$name",
  "version": "0.1.0",
  "private": true,
  "description": "$desc",
  "type": "module",
  "exports": {
    ".": {
      "@leakwatch/source": "./src/index.ts",
      "types": "./dist/index.d.ts",
      "default": "./dist/index.js"
    }
  },
  "dependencies": { $deps }
}
JSON
cat > "$dir/tsconfig.json" <<JSON
{
  "extends": "../../tsconfig.base.json",
  "compilerOptions": { "rootDir": "src", "outDir": "dist" },
  "include": ["src"],
  "exclude": ["src/**/*.test.ts"],
  "references": [ $refs ]
}
JSON
[ -f "$dir/src/index.ts" ] || echo "export {};" > "$dir/src/index.ts"
