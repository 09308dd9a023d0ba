#!/usr/bin/env bash
# Installs Azurite (the Azure Storage emulator) for the Blob data-plane tests, pinned by
# tools/azurite/package.json and package-lock.json (`npm ci`, so the lock file decides).
# Idempotent: does nothing when the pinned version is already installed. Needs Node.js and npm.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="$root/tools/azurite"
bin="$prefix/node_modules/.bin/azurite-blob"
wanted="$(node -p "require('$prefix/package.json').dependencies.azurite")"

if [ -x "$bin" ]; then
  have="$(node -p "require('$prefix/node_modules/azurite/package.json').version" 2>/dev/null || true)"
  if [ "$have" = "$wanted" ]; then
    echo "azurite $have already installed in $prefix"
    exit 0
  fi
fi

command -v npm >/dev/null 2>&1 || { echo "npm not found: install Node.js 20 or later" >&2; exit 1; }
echo "installing azurite $wanted into $prefix"
npm ci --prefix "$prefix" --no-audit --no-fund --loglevel=error >/dev/null
"$bin" --version
